// Pure: which Services hold a clusterIP or nodePort outside the pool that
// selects them (created while the webhook was down, or set by hand), and how
// many addresses and ports of each pool are in use. The audit controller feeds
// it the caches and turns the result into Events, metrics and pool conditions;
// it never changes a Service. See docs/decisions/0007-clusterip-nodeport-webhook.md.
import { parseIP, poolContains } from '../../allocator/index.ts';
import type { IPFamily, Labels, NodePortPool, Pool } from '../../allocator/index.ts';
import type { ConditionUpdate } from '../../../lib/conditions.ts';
import { orderedPools } from '../../webhook/service-plan.ts';
import type { ServiceLike } from '../../webhook/service-plan.ts';

export type PoolKind = 'IPAddressPool' | 'NodePortPool';

export interface AuditService extends ServiceLike {
  metadata?: ServiceLike['metadata'] & { uid?: string };
}

export interface Finding {
  /** namespace/name */
  service: string;
  uid?: string | undefined;
  /** The field path, e.g. spec.clusterIPs[1] or spec.ports[0].nodePort. */
  field: string;
  /** Metric label: clusterIP or nodePort. */
  kind: 'clusterIP' | 'nodePort';
  value: string;
  /** The first pool that selects the Service (the one the webhook would have used). */
  pool: string;
  poolKind: PoolKind;
}

export interface AuditInput {
  services: readonly AuditService[];
  namespaceLabels: (namespace: string) => Labels | undefined;
  /** Usable IPAddressPools; only usage ClusterIP ones are audited. */
  ipPools: readonly Pool[];
  portPools: readonly NodePortPool[];
}

export interface AuditResult {
  findings: Finding[];
  /** Per ClusterIP pool: addresses of it held by any Service. */
  ipUsage: Map<string, Record<IPFamily, bigint>>;
  /** Per NodePortPool: ports of it held by any Service. */
  portUsage: Map<string, number>;
}

/** A finding's identity: a new key means a new Event; a key that went away is cleared. */
export function findingKey(f: Finding): string {
  return [f.poolKind, f.pool, f.service, f.uid ?? '', f.field, f.value].join('\u0000');
}

export function audit(input: AuditInput): AuditResult {
  const clusterPools = input.ipPools.filter((p) => p.usage === 'ClusterIP');
  const findings: Finding[] = [];
  const ips = new Map<string, Set<string>>();
  const ports = new Map<string, Set<number>>();
  for (const p of clusterPools) ips.set(p.name, new Set());
  for (const p of input.portPools) ports.set(p.name, new Set());

  for (const svc of input.services) {
    const spec = svc.spec;
    const namespace = svc.metadata?.namespace ?? '';
    if (!spec || spec.type === 'ExternalName') continue;
    const service = `${namespace}/${svc.metadata?.name ?? ''}`;
    const uid = svc.metadata?.uid;
    const subject = {
      namespace,
      namespaceLabels: input.namespaceLabels(namespace) ?? {},
      serviceLabels: svc.metadata?.labels ?? {},
    };
    const texts = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    const selecting = texts.some((t) => t !== 'None') ? orderedPools(clusterPools, subject) : [];
    texts.forEach((text, index) => {
      const r = parseIP(text);
      if (!r.ok) return;
      const holders = clusterPools.filter((p) => poolContains(p, r.value));
      for (const p of holders) ips.get(p.name)!.add(`${r.value.family}/${r.value.value}`);
      const ofFamily = selecting.filter((p) => p.total[r.value.family] > 0n);
      if (ofFamily.length === 0 || ofFamily.some((p) => poolContains(p, r.value))) return;
      findings.push({
        service,
        uid,
        field: spec.clusterIPs?.length ? `spec.clusterIPs[${index}]` : 'spec.clusterIP',
        kind: 'clusterIP',
        value: text,
        pool: ofFamily[0]!.name,
        poolKind: 'IPAddressPool',
      });
    });

    const withNodePort = (spec.ports ?? []).map((p, index) => ({ index, nodePort: p.nodePort }));
    if (!withNodePort.some((p) => p.nodePort)) continue;
    const portPools = orderedPools(input.portPools, subject);
    for (const { index, nodePort } of withNodePort) {
      if (!nodePort) continue;
      for (const p of input.portPools)
        if (p.ranges.contains(BigInt(nodePort))) ports.get(p.name)!.add(nodePort);
      if (portPools.length === 0 || portPools.some((p) => p.ranges.contains(BigInt(nodePort)))) continue;
      findings.push({
        service,
        uid,
        field: `spec.ports[${index}].nodePort`,
        kind: 'nodePort',
        value: String(nodePort),
        pool: portPools[0]!.name,
        poolKind: 'NodePortPool',
      });
    }
  }

  const ipUsage = new Map<string, Record<IPFamily, bigint>>();
  for (const [pool, held] of ips) {
    const counts = { IPv4: 0n, IPv6: 0n };
    for (const key of held) counts[key.startsWith('IPv4/') ? 'IPv4' : 'IPv6']++;
    ipUsage.set(pool, counts);
  }
  const portUsage = new Map([...ports].map(([pool, held]) => [pool, held.size]));
  return { findings, ipUsage, portUsage };
}

/** How many findings a pool condition names before it says "and N more". */
export const NAMES_IN_CONDITION = 5;

/** The ServicesOutsidePool condition of one pool, from the findings about it. */
export function outsidePoolCondition(findings: readonly Finding[]): ConditionUpdate {
  if (findings.length === 0) {
    return {
      type: 'ServicesOutsidePool',
      status: 'False',
      reason: 'AllInside',
      message: 'every Service the pool selects holds values inside it',
    };
  }
  const services = new Set(findings.map((f) => f.service));
  const sorted = [...findings].sort(
    (a, b) => a.service.localeCompare(b.service) || a.field.localeCompare(b.field),
  );
  const named = sorted.slice(0, NAMES_IN_CONDITION).map((f) => `${f.service} ${f.field}=${f.value}`);
  const more = sorted.length > NAMES_IN_CONDITION ? `, and ${sorted.length - NAMES_IN_CONDITION} more` : '';
  const n = services.size;
  return {
    type: 'ServicesOutsidePool',
    status: 'True',
    reason: 'ValuesOutsidePool',
    message:
      `${n} Service${n === 1 ? '' : 's'} selected by the pool hold${n === 1 ? 's' : ''} values outside it ` +
      `(${findings.length} finding${findings.length === 1 ? '' : 's'}): ${named.join(', ')}${more}. ` +
      'Portico never changes them; recreate the Service, or edit its nodePort, to move it into the pool',
  };
}

/** The Warning Event message for one finding. */
export function findingMessage(f: Finding, poolNamespace: string): string {
  const fix =
    f.kind === 'clusterIP'
      ? 'clusterIP is immutable: delete and recreate the Service to get an address from the pool'
      : 'edit the nodePort to a port of the pool, or recreate the Service';
  return (
    `${f.field} ${f.value} lies outside ${f.poolKind} ${poolNamespace}/${f.pool}, which selects this Service. ` +
    `Portico does not change it; ${fix}`
  );
}
