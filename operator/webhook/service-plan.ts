// Pure: what the mutating Service webhook adds to a Service. Given the
// Service (and, on UPDATE, its stored version), the ClusterIP-usage
// IPAddressPools and the NodePortPools, and what is already taken, it returns
// the clusterIP(s) and nodePorts to fill in, warnings for user-set values
// outside the selecting pool, or an error naming an exhausted pool.
//
// Never overrides a value the user set. Headless, ExternalName and
// unselected Services get an empty plan. See
// docs/decisions/0007-clusterip-nodeport-webhook.md.
import {
  candidatePools,
  formatIPValue,
  IntervalSet,
  lowestFree,
  parseIP,
  poolContains,
} from '../allocator/index.ts';
import type {
  IPFamily,
  Labels,
  NodePortPool,
  Pool,
  SelectablePool,
  ServiceSubject,
} from '../allocator/index.ts';
import { skipFor } from '../allocator/pool.ts';

export interface ServicePortLike {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
}

export interface ServiceLike {
  metadata?: { name?: string; namespace?: string; labels?: Labels };
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    allocateLoadBalancerNodePorts?: boolean;
    ports?: ServicePortLike[];
  };
}

export interface PlanInput {
  service: ServiceLike;
  /** The stored Service on UPDATE. */
  old?: ServiceLike | undefined;
  namespace: string;
  namespaceLabels?: Labels | undefined;
  /** Parsed IPAddressPools; only usage ClusterIP ones are used. */
  ipPools: readonly Pool[];
  portPools: readonly NodePortPool[];
  /** Canonical IP text of addresses in use or reserved. */
  usedIPs: ReadonlySet<string>;
  usedPorts: ReadonlySet<number>;
  /** The family of a SingleStack Service that names none (the cluster's primary). */
  primaryFamily?: IPFamily;
}

export interface ServicePlan {
  /** Addresses to set as spec.clusterIPs (primary first); empty for none. */
  clusterIPs: string[];
  /** The pool the addresses came from. */
  ipPool?: string;
  /** Port index in spec.ports -> nodePort. */
  nodePorts: Map<number, number>;
  portPool?: string;
  warnings: string[];
  /** Set when a selecting pool cannot serve the Service; names the pool. */
  error?: string;
}

const emptyPlan = (): ServicePlan => ({ clusterIPs: [], nodePorts: new Map(), warnings: [] });

function isHeadless(spec: NonNullable<ServiceLike['spec']>): boolean {
  return spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None';
}

function hasClusterIP(svc: ServiceLike | undefined): boolean {
  const spec = svc?.spec;
  return !!spec && (!!spec.clusterIP || (spec.clusterIPs?.length ?? 0) > 0);
}

/** Whether the Service type asks for nodePorts. */
export function needsNodePorts(spec: NonNullable<ServiceLike['spec']>): boolean {
  if (spec.type === 'NodePort') return true;
  return spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false;
}

/** The families the Service gets addresses in, primary first. */
export function wantedFamilies(spec: NonNullable<ServiceLike['spec']>, primary: IPFamily): IPFamily[] {
  const given = (spec.ipFamilies ?? []).filter((f): f is IPFamily => f === 'IPv4' || f === 'IPv6');
  const policy = spec.ipFamilyPolicy ?? 'SingleStack';
  const first = given[0] ?? primary;
  if (policy === 'SingleStack') return [first];
  const second = given[1] ?? (first === 'IPv4' ? 'IPv6' : 'IPv4');
  return [first, second];
}

function ipKey(text: string): string | undefined {
  const r = parseIP(text);
  return r.ok ? formatIPValue(r.value.family, r.value.value) : undefined;
}

function serviceName(input: PlanInput): string {
  return `${input.namespace}/${input.service.metadata?.name ?? ''}`;
}

export function planService(input: PlanInput): ServicePlan {
  const plan = emptyPlan();
  const spec = input.service.spec;
  if (!spec || spec.type === 'ExternalName' || isHeadless(spec)) return plan;
  const subject = {
    namespace: input.namespace,
    namespaceLabels: input.namespaceLabels ?? {},
    serviceLabels: input.service.metadata?.labels ?? {},
  };
  planClusterIPs(input, spec, subject, plan);
  if (plan.error === undefined) planNodePorts(input, spec, subject, plan);
  return plan;
}

type Subject = ServiceSubject;

/** The pools that select a Service, in the order they are tried: pinned by priority, then fallback. */
export function orderedPools<P extends SelectablePool>(pools: Iterable<P>, subject: Subject): P[] {
  const { pinned, fallback } = candidatePools(pools, subject);
  return [...pinned, ...fallback];
}

function planClusterIPs(
  input: PlanInput,
  spec: NonNullable<ServiceLike['spec']>,
  subject: Subject,
  plan: ServicePlan,
): void {
  const pools = orderedPools(
    input.ipPools.filter((p) => p.usage === 'ClusterIP'),
    subject,
  );
  if (pools.length === 0) return;
  if (hasClusterIP(input.service)) {
    // The user's (or the stored) value stays; say so when it is outside the pool.
    const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    for (const text of ips) {
      const r = parseIP(text);
      if (!r.ok) continue;
      const inside = pools.some((p) => poolContains(p, r.value));
      const ofFamily = pools.some((p) => p.total[r.value.family] > 0n);
      if (!inside && ofFamily) {
        plan.warnings.push(
          `spec.clusterIPs: ${text} is outside IPAddressPool ${JSON.stringify(pools[0]!.name)}, which selects ` +
            `Service ${serviceName(input)}; Portico keeps it but its audit will flag it`,
        );
      }
    }
    return;
  }
  // clusterIP is immutable: on UPDATE only a Service that had none (was ExternalName) gets one.
  if (input.old && hasClusterIP(input.old)) return;
  const families = wantedFamilies(spec, input.primaryFamily ?? 'IPv4');
  const primary = families[0]!;
  const pool = pools.find((p) => p.total[primary] > 0n);
  if (!pool) return; // No selecting pool has the primary family: the cluster allocates.
  const blocked = IntervalSet.fromPoints(
    [...input.usedIPs].flatMap((t) => {
      const r = parseIP(t);
      return r.ok && r.value.family === primary ? [r.value.value] : [];
    }),
  );
  const out: string[] = [];
  for (const family of families) {
    if (pool.total[family] === 0n) {
      if (family === primary) return;
      continue; // The secondary family is left to the cluster's allocator.
    }
    const used =
      family === primary
        ? blocked
        : IntervalSet.fromPoints(
            [...input.usedIPs].flatMap((t) => {
              const r = parseIP(t);
              return r.ok && r.value.family === family ? [r.value.value] : [];
            }),
          );
    const skip = skipFor(pool, family);
    const free = lowestFree(pool.ranges[family], [used], skip ? { skip } : {});
    if (free === undefined) {
      plan.error =
        `IPAddressPool ${JSON.stringify(pool.name)} (usage ClusterIP) has no free ${family} address ` +
        `for Service ${serviceName(input)}`;
      return;
    }
    out.push(formatIPValue(family, free));
  }
  plan.clusterIPs = out;
  plan.ipPool = pool.name;
}

function oldNodePort(old: ServiceLike | undefined, port: ServicePortLike): number | undefined {
  if (!old?.spec || !needsNodePorts(old.spec)) return undefined;
  const match = old.spec.ports?.find(
    (p) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP') && p.nodePort,
  );
  return match?.nodePort;
}

function planNodePorts(
  input: PlanInput,
  spec: NonNullable<ServiceLike['spec']>,
  subject: Subject,
  plan: ServicePlan,
): void {
  if (!needsNodePorts(spec)) return;
  const pools = orderedPools(input.portPools, subject);
  if (pools.length === 0) return;
  const ports = spec.ports ?? [];
  const used = new Set(input.usedPorts);
  for (const p of ports) if (p.nodePort) used.add(p.nodePort);
  let blocked = IntervalSet.fromPoints([...used].map(BigInt));
  ports.forEach((port, index) => {
    if (plan.error !== undefined) return;
    if (port.nodePort) {
      if (!pools.some((pool) => pool.ranges.contains(BigInt(port.nodePort!)))) {
        plan.warnings.push(
          `spec.ports[${index}].nodePort: ${port.nodePort} is outside NodePortPool ${JSON.stringify(pools[0]!.name)}, ` +
            `which selects Service ${serviceName(input)}; Portico keeps it but its audit will flag it`,
        );
      }
      return;
    }
    // The apiserver carries a stored nodePort over on UPDATE; leave it to do so.
    if (oldNodePort(input.old, port) !== undefined) return;
    for (const pool of pools) {
      const free = lowestFree(pool.ranges, [blocked]);
      if (free === undefined) continue;
      plan.nodePorts.set(index, Number(free));
      plan.portPool ??= pool.name;
      blocked = blocked.add(free);
      return;
    }
    plan.nodePorts.clear();
    plan.error =
      `NodePortPool ${JSON.stringify(pools[0]!.name)} has no free port for Service ${serviceName(input)}` +
      (pools.length > 1
        ? ` (nor do ${pools
            .slice(1)
            .map((p) => JSON.stringify(p.name))
            .join(', ')})`
        : '');
  });
}

/** Canonical form of every clusterIP of a Service (for the used set). */
export function serviceIPs(svc: ServiceLike): string[] {
  const spec = svc.spec;
  if (!spec) return [];
  const all = [...(spec.clusterIPs ?? []), ...(spec.clusterIP ? [spec.clusterIP] : [])];
  return [...new Set(all.flatMap((t) => (t === 'None' ? [] : (ipKey(t) ?? []))))];
}

export function serviceNodePorts(svc: ServiceLike): number[] {
  return (svc.spec?.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : []));
}

export { ipKey };
