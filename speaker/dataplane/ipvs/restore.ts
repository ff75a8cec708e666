// ipvsadm's text formats, both ways: parsing `ipvsadm -Sn` (what the kernel
// holds, in restore syntax) and `ipvsadm -Ln` connection counts, and
// rendering the operations of a sync as one `ipvsadm --restore` input.
import { canonicalIP } from '../ip.ts';
import type { Protocol } from '../types.ts';
import { realKey, serviceArgs, sortReals, virtualKey } from './table.ts';
import type { IpvsEntry, IpvsReal, IpvsVirtual } from './table.ts';

export type IpvsOp =
  | { readonly op: 'add-virtual' | 'edit-virtual'; readonly virtual: IpvsVirtual }
  | { readonly op: 'delete-virtual'; readonly virtual: IpvsVirtual }
  | { readonly op: 'add-real' | 'edit-real'; readonly virtual: IpvsVirtual; readonly real: IpvsReal }
  | { readonly op: 'delete-real'; readonly virtual: IpvsVirtual; readonly real: IpvsReal };

function virtualOptions(v: IpvsVirtual): string {
  return `-s ${v.scheduler}${v.persistence === null ? '' : ` -p ${v.persistence}`}`;
}

/** One restore line per operation; masquerading (-m) is the only forwarding method used. */
export function renderOp(o: IpvsOp): string {
  const svc = serviceArgs(o.virtual);
  switch (o.op) {
    case 'add-virtual':
      return `-A ${svc} ${virtualOptions(o.virtual)}`;
    case 'edit-virtual':
      return `-E ${svc} ${virtualOptions(o.virtual)}`;
    case 'delete-virtual':
      return `-D ${svc}`;
    case 'add-real':
      return `-a ${svc} -r ${realKey(o.real)} -m -w ${o.real.weight}`;
    case 'edit-real':
      return `-e ${svc} -r ${realKey(o.real)} -m -w ${o.real.weight}`;
    case 'delete-real':
      return `-d ${svc} -r ${realKey(o.real)}`;
  }
}

export function renderRestore(ops: readonly IpvsOp[]): string {
  return ops.length === 0 ? '' : `${ops.map(renderOp).join('\n')}\n`;
}

const PROTOCOL_FLAGS: Record<string, Protocol> = {
  '-t': 'TCP',
  '--tcp-service': 'TCP',
  '-u': 'UDP',
  '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
};

/** `192.0.2.1:80` or `[2001:db8::1]:80` -> canonical ip and port, or null. */
export function parseHostPort(text: string): { ip: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) return null;
  const ip = canonicalIP(m[1] ?? '');
  const port = Number(m[2]);
  return ip === null || !Number.isInteger(port) ? null : { ip, port };
}

interface ParsedLine {
  readonly command: string;
  readonly protocol: Protocol;
  readonly address: { ip: string; port: number };
  readonly options: ReadonlyMap<string, string>;
}

function parseLine(line: string): ParsedLine | null {
  const words = line.trim().split(/\s+/);
  const [command, flag, addr, ...rest] = words;
  const protocol = flag === undefined ? undefined : PROTOCOL_FLAGS[flag];
  const address = addr === undefined ? null : parseHostPort(addr);
  if (command === undefined || protocol === undefined || address === null) return null;
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    const next = rest[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      options.set(word, next);
      i++;
    } else options.set(word, '');
  }
  return { command, protocol, address, options };
}

/**
 * The table `ipvsadm -Sn` printed. Virtual servers that are not in the
 * simple form Portico writes (firewall marks) are skipped: they are not ours
 * to manage. Throws on a real server whose virtual server was not listed.
 */
export function parseSave(text: string): Map<string, IpvsEntry> {
  const virtuals = new Map<string, IpvsVirtual>();
  const reals = new Map<string, IpvsReal[]>();
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = parseLine(raw);
    if (line === null) continue;
    const { ip, port } = line.address;
    const base = { protocol: line.protocol, vip: ip, port };
    const key = virtualKey(base);
    if (line.command === '-A') {
      const p = line.options.get('-p') ?? line.options.get('--persistent');
      virtuals.set(key, {
        ...base,
        scheduler: line.options.get('-s') ?? line.options.get('--scheduler') ?? 'wlc',
        persistence: p === undefined ? null : Number(p),
      });
      reals.set(key, reals.get(key) ?? []);
    } else if (line.command === '-a') {
      const target = parseHostPort(line.options.get('-r') ?? line.options.get('--real-server') ?? '');
      if (target === null) continue;
      const list = reals.get(key);
      if (list === undefined) throw new Error(`ipvsadm -Sn: real server of unknown virtual server: ${raw}`);
      list.push({ ...target, weight: Number(line.options.get('-w') ?? line.options.get('--weight') ?? '1') });
    }
  }
  const out = new Map<string, IpvsEntry>();
  for (const [key, virtual] of virtuals) out.set(key, { virtual, reals: sortReals(reals.get(key) ?? []) });
  return out;
}

/**
 * Open connections per real server, from `ipvsadm -Ln`: key
 * `<virtualKey> -> <realKey>`, value active + inactive connections.
 */
export function parseConnections(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let current: string | null = null;
  for (const raw of text.split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words[0] === 'TCP' || words[0] === 'UDP' || words[0] === 'SCTP') {
      const addr = parseHostPort(words[1] ?? '');
      current = addr ? virtualKey({ protocol: words[0], vip: addr.ip, port: addr.port }) : null;
    } else if (words[0] === '->' && current !== null) {
      const addr = parseHostPort(words[1] ?? '');
      const active = Number(words[4]);
      const inactive = Number(words[5]);
      if (addr && Number.isFinite(active) && Number.isFinite(inactive)) {
        out.set(`${current} -> ${realKey(addr)}`, active + inactive);
      }
    }
  }
  return out;
}
