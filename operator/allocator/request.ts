// Assignment requests: their shape, and their validation into the normalised
// form the engine works on. Malformed input never throws: it comes back as a
// message that becomes an InvalidRequest failure.

import { quote } from './errors.ts';
import { formatIP, isIPFamily, parseIP } from './ip.ts';
import type { IPAddress, IPFamily } from './ip.ts';
import { splitServiceKey } from './service-allocation.ts';
import type { ServiceSubject } from './service-allocation.ts';
import { backendKey, PROTOCOLS } from './sharing.ts';
import type { ExternalTrafficPolicy, ServicePort, SharingParty } from './sharing.ts';
import type { Labels } from './selector.ts';

export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
export const IP_FAMILY_POLICIES: readonly IPFamilyPolicy[] = [
  'SingleStack',
  'PreferDualStack',
  'RequireDualStack',
];

export interface AssignRequest {
  /** namespace/name */
  readonly service: string;
  readonly namespaceLabels?: Labels;
  readonly serviceLabels?: Labels;
  /** spec.ipFamilies, primary first. */
  readonly ipFamilies: readonly IPFamily[];
  /** spec.ipFamilyPolicy; SingleStack when unset. */
  readonly ipFamilyPolicy?: IPFamilyPolicy;
  /** spec.loadBalancerIP or the loadBalancerIPs annotation, already split (see requestedIPsFrom). */
  readonly requestedIPs?: readonly string[];
  /** The address-pool annotation. */
  readonly pool?: string;
  /** The allow-shared-ip annotation; unset or "" means no sharing. */
  readonly sharingKey?: string;
  readonly ports?: readonly ServicePort[];
  readonly externalTrafficPolicy?: ExternalTrafficPolicy;
  /** spec.selector, used for sharing when externalTrafficPolicy is Local. */
  readonly selector?: Labels;
}

/** What restore() needs besides the addresses (all optional). */
export type RestoreInfo = Omit<
  AssignRequest,
  'service' | 'ipFamilies' | 'ipFamilyPolicy' | 'requestedIPs' | 'pool'
>;

/**
 * Split and check spec.loadBalancerIP and the loadBalancerIPs annotation
 * (comma-separated). Setting both is an error, as in MetalLB.
 */
export function requestedIPsFrom(
  loadBalancerIP: string | undefined,
  annotation: string | undefined,
): { ok: true; value: string[] } | { ok: false; message: string } {
  const spec = loadBalancerIP ?? '';
  const ann = annotation ?? '';
  if (spec !== '' && ann !== '') {
    return {
      ok: false,
      message: 'set either spec.loadBalancerIP or the loadBalancerIPs annotation, not both',
    };
  }
  if (ann !== '') return { ok: true, value: ann.split(',').map((s) => s.trim()) };
  if (spec !== '') return { ok: true, value: [spec] };
  return { ok: true, value: [] };
}

/** A request checked and normalised. */
export interface Validated {
  readonly service: string;
  readonly subject: ServiceSubject;
  readonly families: readonly IPFamily[];
  readonly policy: IPFamilyPolicy;
  /** The families the Service may get (SingleStack: just the primary). */
  readonly want: readonly IPFamily[];
  readonly requested: readonly IPAddress[] | undefined;
  readonly poolName: string | undefined;
  readonly party: SharingParty;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateLabels(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (!isPlainObject(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    return `${name} must be a map of strings`;
  }
  return undefined;
}

function validatePorts(ports: unknown): { ok: true; value: ServicePort[] } | { ok: false; message: string } {
  if (ports === undefined) return { ok: true, value: [] };
  if (!Array.isArray(ports)) return { ok: false, message: 'ports must be a list' };
  const out = new Map<string, ServicePort>();
  for (let i = 0; i < ports.length; i++) {
    const p: unknown = ports[i];
    if (!isPlainObject(p)) return { ok: false, message: `ports[${i}] must be an object` };
    if (!PROTOCOLS.includes(p.protocol as ServicePort['protocol'])) {
      return {
        ok: false,
        message: `ports[${i}].protocol: ${quote(p.protocol)} is not one of ${PROTOCOLS.join(', ')}`,
      };
    }
    if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      return { ok: false, message: `ports[${i}].port: ${quote(p.port)} must be an integer from 1 to 65535` };
    }
    const sp: ServicePort = { protocol: p.protocol as ServicePort['protocol'], port: p.port };
    out.set(`${sp.protocol}/${sp.port}`, sp);
  }
  return {
    ok: true,
    value: [...out.values()].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1)),
  };
}

export function validateParty(
  service: string,
  info: RestoreInfo,
): { ok: true; value: SharingParty } | { ok: false; message: string } {
  const { sharingKey, externalTrafficPolicy, selector } = info;
  if (sharingKey !== undefined && typeof sharingKey !== 'string') {
    return { ok: false, message: 'sharingKey must be a string' };
  }
  if (
    externalTrafficPolicy !== undefined &&
    externalTrafficPolicy !== 'Cluster' &&
    externalTrafficPolicy !== 'Local'
  ) {
    return {
      ok: false,
      message: `externalTrafficPolicy ${quote(externalTrafficPolicy)} is not Cluster or Local`,
    };
  }
  for (const [v, name] of [
    [selector, 'selector'],
    [info.namespaceLabels, 'namespaceLabels'],
    [info.serviceLabels, 'serviceLabels'],
  ] as const) {
    const problem = validateLabels(v, name);
    if (problem !== undefined) return { ok: false, message: problem };
  }
  const ports = validatePorts(info.ports);
  if (!ports.ok) return ports;
  return {
    ok: true,
    value: {
      service,
      sharingKey: sharingKey ?? '',
      backendKey: backendKey(externalTrafficPolicy, selector),
      ports: ports.value,
    },
  };
}

export function validateRequest(
  req: AssignRequest,
): { ok: true; value: Validated } | { ok: false; message: string } {
  const fail = (message: string) => ({ ok: false as const, message });
  if (!isPlainObject(req)) return fail('the request must be an object');
  const key = splitServiceKey(req.service);
  if (key === undefined) return fail(`service key ${quote(req.service)} is not namespace/name`);
  const service = req.service;

  const fams = req.ipFamilies;
  if (!Array.isArray(fams) || fams.length === 0) return fail('the Service has no ipFamilies yet');
  if (fams.length > 2 || !fams.every(isIPFamily) || new Set(fams).size !== fams.length) {
    return fail(`ipFamilies ${quote(fams)} must be one or two distinct families out of IPv4, IPv6`);
  }
  const families = [...fams] as IPFamily[];
  const policy = req.ipFamilyPolicy ?? 'SingleStack';
  if (!IP_FAMILY_POLICIES.includes(policy)) {
    return fail(`ipFamilyPolicy ${quote(policy)} is not one of ${IP_FAMILY_POLICIES.join(', ')}`);
  }
  if (policy === 'SingleStack' && families.length === 2)
    return fail('ipFamilyPolicy SingleStack with two ipFamilies');
  if (policy === 'RequireDualStack' && families.length < 2) {
    return fail('ipFamilyPolicy RequireDualStack needs two ipFamilies (is the cluster dual-stack?)');
  }
  const want = policy === 'SingleStack' ? [families[0] as IPFamily] : families;

  let requested: IPAddress[] | undefined;
  if (req.requestedIPs !== undefined && !Array.isArray(req.requestedIPs))
    return fail('requestedIPs must be a list');
  if (req.requestedIPs !== undefined && req.requestedIPs.length > 0) {
    const addrs: IPAddress[] = [];
    for (const text of req.requestedIPs) {
      const a = parseIP(text);
      if (!a.ok) return fail(`requested address ${a.error.message}`);
      addrs.push(a.value);
    }
    if (addrs.length > 2)
      return fail(`at most two requested addresses (one per family), got ${addrs.length}`);
    if (addrs.length === 2 && addrs[0]?.family === addrs[1]?.family) {
      return fail(`requested addresses ${addrs.map(formatIP).join(', ')} are of the same family`);
    }
    for (const a of addrs) {
      if (!want.includes(a.family)) {
        return fail(
          `requested address ${formatIP(a)} is ${a.family}, which does not match the Service's ipFamilies ${want.join(', ')}`,
        );
      }
    }
    if (policy === 'RequireDualStack' && addrs.length !== 2) {
      return fail('ipFamilyPolicy RequireDualStack needs one requested address of each family');
    }
    requested = want.flatMap((f) => addrs.filter((a) => a.family === f));
  }

  if (req.pool !== undefined && typeof req.pool !== 'string') return fail('pool must be a string');
  const poolName = req.pool === undefined || req.pool === '' ? undefined : req.pool;

  const party = validateParty(service, req);
  if (!party.ok) return party;
  const subject: ServiceSubject = {
    namespace: key.namespace,
    namespaceLabels: req.namespaceLabels ?? {},
    serviceLabels: req.serviceLabels ?? {},
  };
  return {
    ok: true,
    value: { service, subject, families, policy, want, requested, poolName, party: party.value },
  };
}
