// NodePortPool: port ranges inside the cluster's node-port range, and the
// NodePort assignment engine that the mutating webhook uses to fill
// spec.ports[].nodePort. Same shape as the address core: interval sets, lowest
// free port, serviceAllocation/priority pool selection, field-named errors.
//
// Decisions:
// - spec.ports entries are "N" or "N-M" (spaces around "-" allowed), decimal,
//   inside the node-port range (default 30000-32767, the apiserver's default
//   --service-node-port-range). Entries must not overlap, within a pool or
//   across pools (validateNodePortPools).
// - Ports are tracked by number only: the apiserver's node-port allocator is
//   protocol-agnostic, so TCP 30080 in one Service blocks UDP 30080 in another.
// - Within one Service, entries with the same `port` and different protocols
//   (DNS: TCP/53 + UDP/53) get the same nodePort, as the apiserver does.
// - An explicit nodePort is never refused for pool eligibility (a Service that
//   already has a nodePort must stay updatable), only when it is outside the
//   node-port range or another Service holds it. It may lie outside every pool.
// - On update, an entry without nodePort gets back the nodePort its
//   protocol+port had before (the apiserver does the same after admission).
// - All new ports of one request come from one pool: the first pool (by
//   serviceAllocation priority, then autoAssign pools without
//   serviceAllocation) with enough free ports. No sticky reservations for ports.
// - The apiserver remains the final arbiter; this core avoids clashes between
//   what it hands out.

import { err, fieldError, ok, quote } from './errors.ts';
import type { FieldError, Result } from './errors.ts';
import type { PortPoolCounts } from './counts.ts';
import { IntervalSet, lowestFree } from './intervals.ts';
import type { PoolSetValidation, PoolConflict } from './pool.ts';
import { admits, candidatePools, parseServiceAllocation, splitServiceKey } from './service-allocation.ts';
import type { ServiceAllocation, ServiceAllocationSpec, ServiceSubject } from './service-allocation.ts';
import type { Labels } from './selector.ts';
import { PROTOCOLS } from './sharing.ts';
import type { Protocol } from './sharing.ts';

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

export const DEFAULT_NODE_PORT_RANGE: PortRange = { lo: 30000, hi: 32767 };

const PORT_NUMBER = /^(0|[1-9][0-9]{0,4})$/;

function parsePortNumber(text: string): number | undefined {
  if (!PORT_NUMBER.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Parse "N" or "N-M" (1..65535). */
export function parsePortRange(text: string): Result<PortRange, string> {
  if (typeof text !== 'string' || text === '') return err(`${quote(text)} is not a port or port range`);
  const dash = text.indexOf('-');
  if (dash === -1) {
    const n = parsePortNumber(text);
    return n === undefined
      ? err(`${quote(text)} is not a port number from 1 to 65535`)
      : ok({ lo: n, hi: n });
  }
  const lo = parsePortNumber(text.slice(0, dash).trim());
  const hi = parsePortNumber(text.slice(dash + 1).trim());
  if (lo === undefined || hi === undefined) {
    return err(`${quote(text)} is not a port range "N-M" of port numbers from 1 to 65535`);
  }
  if (lo > hi) return err(`${quote(text)} is a reversed range`);
  return ok({ lo, hi });
}

export function formatPortRange(r: PortRange): string {
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}

export interface NodePortPoolSpec {
  readonly ports?: readonly string[];
  readonly autoAssign?: boolean;
  readonly serviceAllocation?: ServiceAllocationSpec;
}

export interface PortPoolEntry {
  readonly index: number;
  readonly text: string;
  readonly lo: number;
  readonly hi: number;
}

export interface NodePortPool {
  readonly name: string;
  readonly autoAssign: boolean;
  readonly serviceAllocation: ServiceAllocation | undefined;
  readonly entries: readonly PortPoolEntry[];
  readonly ranges: IntervalSet;
  readonly total: number;
}

export interface ParseNodePortPoolOptions {
  readonly nodePortRange?: PortRange;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse and validate a NodePortPool spec; every problem names its field. */
export function parseNodePortPool(
  name: string,
  spec: unknown,
  options: ParseNodePortPoolOptions = {},
): Result<NodePortPool, FieldError[]> {
  const range = options.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
  const errors: FieldError[] = [];
  if (typeof name !== 'string' || name === '') errors.push(fieldError('metadata.name', 'must not be empty'));
  if (!isPlainObject(spec)) return err([...errors, fieldError('spec', 'must be an object')]);
  const entries: PortPoolEntry[] = [];
  if (!Array.isArray(spec.ports) || spec.ports.length === 0) {
    errors.push(fieldError('spec.ports', 'must list at least one port or port range'));
  } else {
    spec.ports.forEach((text: unknown, index) => {
      const path = `spec.ports[${index}]`;
      const r = parsePortRange(text as string);
      if (!r.ok) {
        errors.push(fieldError(path, r.error));
        return;
      }
      if (r.value.lo < range.lo || r.value.hi > range.hi) {
        errors.push(
          fieldError(path, `${quote(text)} is outside the node port range ${formatPortRange(range)}`),
        );
        return;
      }
      const clash = entries.find((e) => e.lo <= r.value.hi && r.value.lo <= e.hi);
      if (clash !== undefined) {
        errors.push(
          fieldError(path, `${quote(text)} overlaps spec.ports[${clash.index}] (${quote(clash.text)})`),
        );
        return;
      }
      entries.push({ index, text: text as string, lo: r.value.lo, hi: r.value.hi });
    });
  }
  let autoAssign = true;
  if (spec.autoAssign !== undefined && spec.autoAssign !== null) {
    if (typeof spec.autoAssign !== 'boolean') {
      errors.push(fieldError('spec.autoAssign', `${quote(spec.autoAssign)} must be true or false`));
    } else {
      autoAssign = spec.autoAssign;
    }
  }
  const sa = parseServiceAllocation(spec.serviceAllocation, 'spec.serviceAllocation');
  if (!sa.ok) errors.push(...sa.error);
  if (errors.length > 0 || !sa.ok) return err(errors);
  const ranges = IntervalSet.of(...entries.map((e) => [BigInt(e.lo), BigInt(e.hi)] as const));
  return ok({ name, autoAssign, serviceAllocation: sa.value, entries, ranges, total: Number(ranges.size()) });
}

/** Check NodePortPools against each other, oldest first; see validatePools. */
export function validateNodePortPools(pools: readonly NodePortPool[]): PoolSetValidation<NodePortPool> {
  const accepted: NodePortPool[] = [];
  const rejected: { pool: NodePortPool; errors: FieldError[] }[] = [];
  const conflicts: PoolConflict[] = [];
  for (const pool of pools) {
    const errors: FieldError[] = [];
    if (accepted.some((p) => p.name === pool.name)) {
      const e = fieldError('metadata.name', `NodePortPool ${quote(pool.name)} is defined more than once`);
      errors.push(e);
      conflicts.push({ pool: pool.name, otherPool: pool.name, error: e });
    } else {
      for (const entry of pool.entries) {
        for (const other of accepted) {
          for (const o of other.entries) {
            if (o.hi < entry.lo || entry.hi < o.lo) continue;
            const e = fieldError(
              `spec.ports[${entry.index}]`,
              `${quote(entry.text)} overlaps spec.ports[${o.index}] (${quote(o.text)}) of NodePortPool ${quote(other.name)}`,
            );
            errors.push(e);
            conflicts.push({ pool: pool.name, otherPool: other.name, error: e });
          }
        }
      }
    }
    if (errors.length > 0) rejected.push({ pool, errors });
    else accepted.push(pool);
  }
  return { accepted, rejected, conflicts };
}

export interface NodePortRequestPort {
  readonly name?: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly nodePort?: number;
}

export interface NodePortRequest {
  readonly service: string;
  readonly namespaceLabels?: Labels;
  readonly serviceLabels?: Labels;
  /** A NodePortPool named by annotation, if any. */
  readonly pool?: string;
  /** spec.ports, in order. */
  readonly ports: readonly NodePortRequestPort[];
}

export interface AssignedNodePort {
  readonly protocol: Protocol;
  readonly port: number;
  readonly nodePort: number;
  /** The pool holding the nodePort, if any. */
  readonly pool: string | undefined;
}

export interface NodePortAssignment {
  readonly service: string;
  readonly ports: readonly AssignedNodePort[];
}

export type NodePortFailureReason =
  'InvalidRequest' | 'PoolNotFound' | 'PoolNotEligible' | 'PortInUse' | 'PoolExhausted' | 'NoEligiblePool';

export interface NodePortSuccess {
  readonly ok: true;
  readonly service: string;
  /** One nodePort per request entry, in order. */
  readonly nodePorts: readonly number[];
  /** The pool new ports were taken from (undefined when none were needed). */
  readonly pool: string | undefined;
  /** The set of nodePorts differs from what the Service held. */
  readonly changed: boolean;
}

export interface NodePortFailure {
  readonly ok: false;
  readonly service: string;
  readonly reason: NodePortFailureReason;
  readonly message: string;
  readonly nodePort?: number;
  readonly pool?: string;
  readonly conflictsWith?: string;
}

export type NodePortResult = NodePortSuccess | NodePortFailure;

export interface NodePortAllocatorOptions {
  readonly nodePortRange?: PortRange;
}

interface PortRec {
  readonly service: string;
  readonly ports: readonly { protocol: Protocol; port: number; nodePort: number }[];
}

export class NodePortAllocator {
  readonly #range: PortRange;
  #pools = new Map<string, NodePortPool>();
  readonly #recs = new Map<string, PortRec>();
  readonly #owner = new Map<number, string>();
  #used: IntervalSet = IntervalSet.EMPTY;

  constructor(options: NodePortAllocatorOptions = {}) {
    this.#range = options.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
  }

  /** Replace the pools (pass validateNodePortPools(...).accepted). Assignments are kept. */
  setPools(pools: readonly NodePortPool[]): void {
    this.#pools = new Map();
    for (const p of [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!this.#pools.has(p.name)) this.#pools.set(p.name, p);
    }
  }

  pools(): NodePortPool[] {
    return [...this.#pools.values()];
  }

  #poolOf(nodePort: number): string | undefined {
    for (const p of this.#pools.values()) if (p.ranges.contains(BigInt(nodePort))) return p.name;
    return undefined;
  }

  #validatePorts(
    service: string,
    ports: unknown,
    needNodePort: boolean,
  ): { ok: true; value: NodePortRequestPort[] } | NodePortFailure {
    const fail = (message: string, nodePort?: number): NodePortFailure => ({
      ok: false,
      service,
      reason: 'InvalidRequest',
      message,
      ...(nodePort !== undefined ? { nodePort } : {}),
    });
    if (splitServiceKey(service) === undefined)
      return fail(`service key ${quote(service)} is not namespace/name`);
    if (!Array.isArray(ports)) return fail('ports must be a list');
    const out: NodePortRequestPort[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < ports.length; i++) {
      const p: unknown = ports[i];
      if (!isPlainObject(p)) return fail(`ports[${i}] must be an object`);
      if (!PROTOCOLS.includes(p.protocol as Protocol)) {
        return fail(`ports[${i}].protocol: ${quote(p.protocol)} is not one of ${PROTOCOLS.join(', ')}`);
      }
      if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
        return fail(`ports[${i}].port: ${quote(p.port)} must be an integer from 1 to 65535`);
      }
      const np = p.nodePort;
      if (np !== undefined && np !== null && np !== 0) {
        if (typeof np !== 'number' || !Number.isInteger(np) || np < this.#range.lo || np > this.#range.hi) {
          return fail(
            `ports[${i}].nodePort: ${quote(np)} is outside the node port range ${formatPortRange(this.#range)}`,
          );
        }
        const k = `${p.protocol as string}/${np}`;
        if (seen.has(k)) return fail(`ports[${i}].nodePort: ${np}/${p.protocol as string} is used twice`, np);
        seen.add(k);
        out.push({ protocol: p.protocol as Protocol, port: p.port, nodePort: np });
      } else {
        if (needNodePort) return fail(`ports[${i}].nodePort is missing`);
        out.push({ protocol: p.protocol as Protocol, port: p.port });
      }
    }
    return { ok: true, value: out };
  }

  #inUse(nodePort: number, service: string): NodePortFailure | undefined {
    const owner = this.#owner.get(nodePort);
    if (owner === undefined || owner === service) return undefined;
    return {
      ok: false,
      service,
      reason: 'PortInUse',
      nodePort,
      conflictsWith: owner,
      message: `nodePort ${nodePort} is already used by ${owner}`,
    };
  }

  #commit(service: string, ports: readonly { protocol: Protocol; port: number; nodePort: number }[]): void {
    this.#drop(service);
    for (const p of ports) {
      this.#owner.set(p.nodePort, service);
      this.#used = this.#used.add(BigInt(p.nodePort));
    }
    this.#recs.set(service, { service, ports: ports.map((p) => ({ ...p })) });
  }

  #drop(service: string): PortRec | undefined {
    const rec = this.#recs.get(service);
    if (rec === undefined) return undefined;
    for (const p of rec.ports) {
      if (this.#owner.get(p.nodePort) === service) {
        this.#owner.delete(p.nodePort);
        this.#used = this.#used.remove(BigInt(p.nodePort));
      }
    }
    this.#recs.delete(service);
    return rec;
  }

  #view(rec: PortRec): NodePortAssignment {
    return { service: rec.service, ports: rec.ports.map((p) => ({ ...p, pool: this.#poolOf(p.nodePort) })) };
  }

  /** Fill in nodePorts for a Service; explicit ones are checked and kept. */
  assign(request: NodePortRequest): NodePortResult {
    const service = isPlainObject(request) && typeof request.service === 'string' ? request.service : '';
    const checked = this.#validatePorts(service, isPlainObject(request) ? request.ports : undefined, false);
    if (!checked.ok) return checked;
    const entries = checked.value;
    const key = splitServiceKey(service) as { namespace: string };
    const subject: ServiceSubject = {
      namespace: key.namespace,
      namespaceLabels: request.namespaceLabels ?? {},
      serviceLabels: request.serviceLabels ?? {},
    };
    const prev = this.#recs.get(service);
    const resolved: (number | undefined)[] = entries.map((e) => e.nodePort);

    // Keep what this protocol+port had before.
    resolved.forEach((np, i) => {
      if (np !== undefined) return;
      const e = entries[i] as NodePortRequestPort;
      const old = prev?.ports.find((p) => p.protocol === e.protocol && p.port === e.port)?.nodePort;
      if (
        old !== undefined &&
        !entries.some((x, j) => j !== i && x.protocol === e.protocol && resolved[j] === old)
      ) {
        resolved[i] = old;
      }
    });
    // Same port number, other protocol: share the nodePort.
    resolved.forEach((np, i) => {
      if (np !== undefined) return;
      const e = entries[i] as NodePortRequestPort;
      const j = entries.findIndex(
        (x, k) => k !== i && x.port === e.port && x.protocol !== e.protocol && resolved[k] !== undefined,
      );
      if (j !== -1) resolved[i] = resolved[j];
    });

    for (const np of new Set(resolved)) {
      if (np === undefined) continue;
      const busy = this.#inUse(np, service);
      if (busy !== undefined) return busy;
    }

    const needPorts = [...new Set(entries.filter((_, i) => resolved[i] === undefined).map((e) => e.port))];
    let poolUsed: string | undefined;
    if (needPorts.length > 0) {
      const own = IntervalSet.fromPoints((prev?.ports ?? []).map((p) => BigInt(p.nodePort)));
      const taken = IntervalSet.fromPoints(resolved.filter((x): x is number => x !== undefined).map(BigInt));
      const blocked = [this.#used.subtract(own), taken];
      const take = (pool: NodePortPool): number[] | undefined => {
        const got: number[] = [];
        let extra = IntervalSet.EMPTY;
        for (let n = 0; n < needPorts.length; n++) {
          const c = lowestFree(pool.ranges, [...blocked, extra]);
          if (c === undefined) return undefined;
          got.push(Number(c));
          extra = extra.add(c);
        }
        return got;
      };
      let pools: NodePortPool[][];
      if (request.pool !== undefined && request.pool !== '') {
        const pool = this.#pools.get(request.pool);
        if (pool === undefined) {
          return {
            ok: false,
            service,
            reason: 'PoolNotFound',
            pool: request.pool,
            message: `NodePortPool ${quote(request.pool)} does not exist`,
          };
        }
        if (!admits(pool.serviceAllocation, subject)) {
          return {
            ok: false,
            service,
            reason: 'PoolNotEligible',
            pool: pool.name,
            message: `NodePortPool ${quote(pool.name)} does not admit ${service} (see its serviceAllocation)`,
          };
        }
        pools = [[pool]];
      } else {
        const { pinned, fallback } = candidatePools(this.#pools.values(), subject);
        if (pinned.length + fallback.length === 0) {
          return {
            ok: false,
            service,
            reason: 'NoEligiblePool',
            message: `no NodePortPool with autoAssign admits ${service}`,
          };
        }
        pools = [pinned, fallback];
      }
      let got: number[] | undefined;
      for (const pool of pools.flat()) {
        got = take(pool);
        if (got !== undefined) {
          poolUsed = pool.name;
          break;
        }
      }
      if (got === undefined) {
        const names = pools.flat().map((p) => quote(p.name));
        return {
          ok: false,
          service,
          reason: 'PoolExhausted',
          ...(names.length === 1 ? { pool: pools.flat()[0]?.name } : {}),
          message: `not enough free node ports (${needPorts.length} needed) in ${names.length === 1 ? 'NodePortPool' : 'any of the NodePortPools'} ${names.join(', ')}`,
        };
      }
      needPorts.forEach((port, n) => {
        resolved.forEach((np, i) => {
          if (np === undefined && entries[i]?.port === port) resolved[i] = got[n];
        });
      });
    }

    const final = entries.map((e, i) => ({
      protocol: e.protocol,
      port: e.port,
      nodePort: resolved[i] as number,
    }));
    const before = new Set((prev?.ports ?? []).map((p) => p.nodePort));
    const after = new Set(final.map((p) => p.nodePort));
    const changed = before.size !== after.size || [...after].some((p) => !before.has(p));
    this.#commit(service, final);
    return { ok: true, service, nodePorts: final.map((p) => p.nodePort), pool: poolUsed, changed };
  }

  /** Re-admit nodePorts recorded on a Service (startup). Clashes are reported, never double-assigned. */
  restore(service: string, ports: readonly NodePortRequestPort[]): NodePortResult {
    const checked = this.#validatePorts(service, ports, true);
    if (!checked.ok) return checked;
    const final = checked.value.map((e) => ({
      protocol: e.protocol,
      port: e.port,
      nodePort: e.nodePort as number,
    }));
    for (const p of final) {
      const busy = this.#inUse(p.nodePort, service);
      if (busy !== undefined) return busy;
    }
    const prev = this.#recs.get(service);
    const before = new Set((prev?.ports ?? []).map((p) => p.nodePort));
    const after = new Set(final.map((p) => p.nodePort));
    const changed =
      prev === undefined || before.size !== after.size || [...after].some((p) => !before.has(p));
    this.#commit(service, final);
    return { ok: true, service, nodePorts: final.map((p) => p.nodePort), pool: undefined, changed };
  }

  release(service: string): NodePortAssignment | undefined {
    const rec = this.#drop(service);
    return rec === undefined ? undefined : this.#view(rec);
  }

  get(service: string): NodePortAssignment | undefined {
    const rec = this.#recs.get(service);
    return rec === undefined ? undefined : this.#view(rec);
  }

  assignments(): NodePortAssignment[] {
    return [...this.#recs.values()]
      .sort((a, b) => (a.service < b.service ? -1 : 1))
      .map((r) => this.#view(r));
  }

  ownerOf(nodePort: number): string | undefined {
    return this.#owner.get(nodePort);
  }

  counts(): PortPoolCounts[] {
    return this.pools().map((p) => {
      const used = Number(p.ranges.intersect(this.#used).size());
      return { pool: p.name, total: p.total, used, available: p.total - used };
    });
  }
}
