// From the cluster's objects to who announces what: for every LoadBalancer IP
// of a Portico pool that an L2Advertisement selects, the candidate nodes, the
// elected winner, and the interfaces it answers on. Every speaker computes the
// whole plan the same way; each then acts only on its own part. Pure.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseAddressEntry } from '../../crds/net.ts';
import type { AddressEntry } from '../../crds/net.ts';
import type { LabelSelector } from '../../crds/common.ts';
import { canonicalIP, parseIP } from '../../operator/allocator/ip.ts';
import { matchesLabelSelector } from '../../operator/allocator/selector.ts';
import { elect } from './election.ts';
import type { Candidate } from './election.ts';
import { nodeIneligible, nodesWithLocalEndpoints } from './eligibility.ts';

export interface PoolInput {
  name: string;
  labels?: Record<string, string>;
  addresses: readonly string[];
}

export interface AdvertisementInput {
  name: string;
  ipAddressPools?: readonly string[];
  ipAddressPoolSelectors?: readonly LabelSelector[];
  nodeSelectors?: readonly LabelSelector[];
  interfaces?: readonly string[];
  serviceSelectors?: readonly LabelSelector[];
  preferredNodeSelectors?: readonly { weight: number; preference: LabelSelector }[];
}

export interface PlanInput {
  nodes: readonly V1Node[];
  /** Nodes whose speaker is live (heard recently, or this speaker itself). */
  live: ReadonlySet<string>;
  pools: readonly PoolInput[];
  advertisements: readonly AdvertisementInput[];
  services: readonly V1Service[];
  endpointSlices: readonly V1EndpointSlice[];
}

export interface ServiceRef {
  namespace: string;
  name: string;
  uid?: string;
}

export interface Announcement {
  ip: string;
  family: 4 | 6;
  service: ServiceRef;
  pool: string;
  /** Eligible and live, sorted. */
  candidates: string[];
  winner?: string;
  /** Interfaces the winner answers on; empty means every interface. */
  interfaces: string[];
  /** Why there is no winner, when there is none. */
  reason?: string;
}

interface ParsedPool {
  pool: PoolInput;
  entries: AddressEntry[];
}

const anySelects = (selectors: readonly LabelSelector[] | undefined, labels?: Record<string, string>) =>
  !selectors || selectors.length === 0 || selectors.some((s) => matchesLabelSelector(s, labels));

/** An advertisement that names no pool, by name or selector, announces them all. */
function selectsPool(ad: AdvertisementInput, pool: PoolInput): boolean {
  const names = ad.ipAddressPools ?? [];
  const selectors = ad.ipAddressPoolSelectors ?? [];
  if (names.length === 0 && selectors.length === 0) return true;
  return names.includes(pool.name) || selectors.some((s) => matchesLabelSelector(s, pool.labels));
}

function poolOf(pools: readonly ParsedPool[], ip: string): ParsedPool | undefined {
  const r = parseIP(ip);
  if (!r.ok) return undefined;
  const family = r.value.family === 'IPv4' ? 4 : 6;
  return pools.find((p) =>
    p.entries.some((e) => e.family === family && e.start <= r.value.value && r.value.value <= e.end),
  );
}

export function ingressIPs(svc: V1Service): string[] {
  if (svc.spec?.type !== 'LoadBalancer') return [];
  const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [canonicalIP(i.ip)] : []));
  return [...new Set(ips.filter((ip): ip is string => ip !== undefined))];
}

export function plan(input: PlanInput): Announcement[] {
  const pools: ParsedPool[] = input.pools.map((pool) => ({
    pool,
    entries: pool.addresses.flatMap((a) => {
      const r = parseAddressEntry(a);
      return r.ok ? [r.value] : [];
    }),
  }));
  const eligible = input.nodes.filter((n) => n.metadata?.name && nodeIneligible(n) === undefined);
  const out: Announcement[] = [];
  for (const svc of input.services) {
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const service: ServiceRef = { namespace, name, ...(svc.metadata?.uid ? { uid: svc.metadata.uid } : {}) };
    const local = svc.spec?.externalTrafficPolicy === 'Local';
    const withEndpoints = local ? nodesWithLocalEndpoints(input.endpointSlices, namespace, name) : undefined;
    for (const ip of ingressIPs(svc)) {
      const found = poolOf(pools, ip);
      if (!found) continue; // not ours to announce
      const ads = input.advertisements.filter(
        (ad) => selectsPool(ad, found.pool) && anySelects(ad.serviceSelectors, svc.metadata?.labels),
      );
      if (ads.length === 0) continue;
      const candidates: Candidate[] = [];
      const interfacesOf = new Map<string, string[]>();
      for (const node of eligible) {
        const nodeName = node.metadata!.name!;
        const labels = node.metadata?.labels;
        const nodeAds = ads.filter((ad) => anySelects(ad.nodeSelectors, labels));
        if (nodeAds.length === 0 || !input.live.has(nodeName)) continue;
        if (withEndpoints && !withEndpoints.has(nodeName)) continue;
        const score = nodeAds
          .flatMap((ad) => ad.preferredNodeSelectors ?? [])
          .filter((p) => matchesLabelSelector(p.preference, labels))
          .reduce((sum, p) => sum + p.weight, 0);
        candidates.push({ node: nodeName, score });
        // Any advertisement without interfaces means every interface.
        const all = nodeAds.some((ad) => (ad.interfaces ?? []).length === 0);
        interfacesOf.set(
          nodeName,
          all ? [] : [...new Set(nodeAds.flatMap((ad) => ad.interfaces ?? []))].sort(),
        );
      }
      const winner = elect(ip, candidates);
      out.push({
        ip,
        family: ip.includes(':') ? 6 : 4,
        service,
        pool: found.pool.name,
        candidates: candidates.map((c) => c.node).sort(),
        interfaces: winner ? (interfacesOf.get(winner) ?? []) : [],
        ...(winner
          ? { winner }
          : { reason: local ? 'no live eligible node has a ready local endpoint' : 'no live eligible node' }),
      });
    }
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}
