// The IPVS side of the desired state, as plain data: virtual servers keyed
// as ipvsadm names them, their real servers, and the VIPs the dummy interface
// must hold. Pure: no I/O.
import { compareStrings } from '../types.ts';
import type { DesiredState, Protocol } from '../types.ts';

export interface IpvsVirtual {
  readonly protocol: Protocol;
  readonly vip: string;
  readonly port: number;
  readonly scheduler: string;
  /** Persistence timeout in seconds (sessionAffinity ClientIP), or null. */
  readonly persistence: number | null;
}

export interface IpvsReal {
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
}

export interface IpvsEntry {
  readonly virtual: IpvsVirtual;
  /** Sorted by realKey. */
  readonly reals: readonly IpvsReal[];
}

/** Virtual servers by virtualKey. */
export type IpvsTable = ReadonlyMap<string, IpvsEntry>;

const hostPort = (ip: string, port: number): string =>
  ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;

/** How ipvsadm names a virtual server on its command line: `-t 192.0.2.1:80`. */
export function serviceArgs(v: Pick<IpvsVirtual, 'protocol' | 'vip' | 'port'>): string {
  const flag = v.protocol === 'TCP' ? '-t' : v.protocol === 'UDP' ? '-u' : '--sctp-service';
  return `${flag} ${hostPort(v.vip, v.port)}`;
}

/** Identity of a virtual server: its protocol flag and address. */
export function virtualKey(v: Pick<IpvsVirtual, 'protocol' | 'vip' | 'port'>): string {
  return serviceArgs(v);
}

export function realKey(r: Pick<IpvsReal, 'ip' | 'port'>): string {
  return hostPort(r.ip, r.port);
}

export function sameVirtual(a: IpvsVirtual, b: IpvsVirtual): boolean {
  return a.scheduler === b.scheduler && a.persistence === b.persistence;
}

export function sortReals(reals: IpvsReal[]): IpvsReal[] {
  return reals.sort((a, b) => compareStrings(realKey(a), realKey(b)));
}

/**
 * The IPVS table for a desired state. Every virtual service becomes a
 * virtual server, even without endpoints: IPVS then answers new connections
 * with ICMP port unreachable (ip_vs_leave), which is the reject the model
 * asks for. Weight-0 endpoints stay as weight-0 real servers, so their open
 * connections drain.
 */
export function desiredTable(state: DesiredState): Map<string, IpvsEntry> {
  const out = new Map<string, IpvsEntry>();
  for (const vs of state.services) {
    const virtual: IpvsVirtual = {
      protocol: vs.protocol,
      vip: vs.vip,
      port: vs.port,
      scheduler: vs.scheduler,
      persistence: vs.affinity?.timeoutSeconds ?? null,
    };
    const reals = sortReals(vs.endpoints.map((ep) => ({ ip: ep.ip, port: ep.port, weight: ep.weight })));
    out.set(virtualKey(virtual), { virtual, reals });
  }
  return out;
}

/**
 * The addresses the dummy interface holds: ClusterIPs, LoadBalancer IPs and
 * externalIPs, so the node accepts packets for them and IPVS sees them in
 * LOCAL_IN. NodePorts use the node's own addresses, which it already has.
 */
export function desiredAddresses(state: DesiredState): Set<string> {
  const out = new Set<string>();
  for (const vs of state.services) if (vs.kind !== 'nodePort') out.add(vs.vip);
  return out;
}
