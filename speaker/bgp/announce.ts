// Which routes this node announces to which of its peers. For every
// LoadBalancer IP from a Portico pool that a BGPAdvertisement selects:
//  - externalTrafficPolicy Cluster: every selected node announces while any
//    endpoint of the Service is ready (or serving);
//  - Local: only nodes with a ready local endpoint announce;
// aggregated to the advertisement's prefix length, with its communities and
// LOCAL_PREF, to the advertisement's peers (all of the node's when unset).
// A Service that is gone, or has no IP, simply has no routes: the session's
// Adj-RIB-Out withdraws what it no longer has. Pure.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { BGPAdvertisementSpec } from '../../crds/bgpadvertisement.ts';
import type { LabelSelector } from '../../crds/common.ts';
import type { CommunitySpec } from '../../crds/community.ts';
import { parseAddressEntry, parseIP } from '../../crds/net.ts';
import type { AddressEntry } from '../../crds/net.ts';
import { matchesLabelSelector } from '../../operator/allocator/selector.ts';
import { nodeIneligible } from '../l2/eligibility.ts';
import { canonicalPrefix } from './codec/ip.ts';
import { nodeAddress, resolveCommunities, selectsNode } from './config.ts';
import type { ConfigError, Named, PeerConfig } from './config.ts';
import type { OutboundRoute } from './rib-out.ts';

export interface PoolInput {
  name: string;
  labels?: Record<string, string>;
  addresses: readonly string[];
}

export interface AnnounceInput {
  node: V1Node;
  /** The node's sessions (buildPeerConfigs). */
  peers: readonly PeerConfig[];
  pools: readonly PoolInput[];
  advertisements: readonly Named<BGPAdvertisementSpec>[];
  communities: readonly Named<CommunitySpec>[];
  services: readonly V1Service[];
  endpointSlices: readonly V1EndpointSlice[];
}

export interface ServiceAnnouncement {
  service: string;
  ip: string;
  prefix: string;
  peers: string[];
}

export interface AnnouncePlan {
  /** Routes by peer (BGPPeer name); every peer of the node has an entry. */
  routes: Map<string, OutboundRoute[]>;
  /** What each Service is announced as, and to whom. */
  announcements: ServiceAnnouncement[];
  errors: ConfigError[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const anySelects = (selectors: readonly LabelSelector[] | undefined, labels?: Record<string, string>) =>
  !selectors || selectors.length === 0 || selectors.some((s) => matchesLabelSelector(s, labels));

function selectsPool(ad: BGPAdvertisementSpec, pool: PoolInput): boolean {
  const names = ad.ipAddressPools ?? [];
  const selectors = ad.ipAddressPoolSelectors ?? [];
  if (names.length === 0 && selectors.length === 0) return true;
  return names.includes(pool.name) || selectors.some((s) => matchesLabelSelector(s, pool.labels));
}

/** Nodes with a ready-or-serving endpoint of the Service, and whether there is any such endpoint at all. */
export function readyEndpoints(
  slices: readonly V1EndpointSlice[],
  namespace: string,
  name: string,
): { any: boolean; nodes: Set<string> } {
  const nodes = new Set<string>();
  let any = false;
  for (const s of slices) {
    if (s.metadata?.namespace !== namespace || s.metadata?.labels?.[SERVICE_NAME_LABEL] !== name) continue;
    for (const e of s.endpoints ?? []) {
      if ((e.addresses ?? []).length === 0) continue;
      const ready = e.conditions?.ready !== false;
      if (!ready && !(e.conditions?.serving ?? false)) continue;
      any = true;
      if (e.nodeName) nodes.add(e.nodeName);
    }
  }
  return { any, nodes };
}

function lbIPs(svc: V1Service): string[] {
  if (svc.spec?.type !== 'LoadBalancer') return [];
  return [...new Set((svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])))];
}

function key(route: OutboundRoute): string {
  return route.prefix;
}

/** Two advertisements can give the same prefix: attributes are merged. */
function merge(into: Map<string, OutboundRoute>, r: OutboundRoute): void {
  const old = into.get(key(r));
  if (!old) return void into.set(key(r), r);
  const communities = [...new Set([...(old.communities ?? []), ...(r.communities ?? [])])];
  const large = [...(old.largeCommunities ?? []), ...(r.largeCommunities ?? [])].filter(
    (c, i, all) => all.findIndex((o) => JSON.stringify(o) === JSON.stringify(c)) === i,
  );
  // Conflicting LOCAL_PREFs are rejected by the webhook; here the higher wins.
  const localPref = Math.max(old.localPref ?? -1, r.localPref ?? -1);
  into.set(key(r), {
    ...old,
    ...(communities.length ? { communities } : {}),
    ...(large.length ? { largeCommunities: large } : {}),
    ...(localPref >= 0 ? { localPref } : {}),
  });
}

export function planAnnouncements(input: AnnounceInput): AnnouncePlan {
  const errors: ConfigError[] = [];
  const perPeer = new Map<string, Map<string, OutboundRoute>>(input.peers.map((p) => [p.name, new Map()]));
  const announcements: ServiceAnnouncement[] = [];
  const nodeName = input.node.metadata?.name ?? '';
  const pools = input.pools.map((pool) => ({
    pool,
    entries: pool.addresses.flatMap((a): AddressEntry[] => {
      const r = parseAddressEntry(a);
      return r.ok ? [r.value] : [];
    }),
  }));
  // Advertisements for this node, with their communities resolved once.
  const ads = input.advertisements
    .filter((ad) => selectsNode(ad.spec.nodeSelectors, input.node))
    .flatMap((ad) => {
      const c = resolveCommunities(ad.spec.communities ?? [], input.communities, {
        kind: 'BGPAdvertisement',
        name: ad.name,
        field: 'spec.communities',
      });
      errors.push(...c.errors);
      return c.errors.length ? [] : [{ ...ad, resolved: c.resolved }];
    });
  if (nodeIneligible(input.node) !== undefined)
    return { routes: new Map(input.peers.map((p) => [p.name, []])), announcements, errors };
  for (const svc of input.services) {
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const ready = readyEndpoints(input.endpointSlices, namespace, name);
    const local = svc.spec?.externalTrafficPolicy === 'Local';
    if (local ? !ready.nodes.has(nodeName) : !ready.any) continue;
    for (const ip of lbIPs(svc)) {
      const parsed = parseIP(ip);
      if (!parsed) continue;
      const found = pools.find((p) =>
        p.entries.some((e) => e.family === parsed.family && e.start <= parsed.value && parsed.value <= e.end),
      );
      if (!found) continue; // not an address of ours
      for (const ad of ads) {
        if (!selectsPool(ad.spec, found.pool) || !anySelects(ad.spec.serviceSelectors, svc.metadata?.labels))
          continue;
        const length = parsed.family === 4 ? ad.spec.aggregationLength : ad.spec.aggregationLengthV6;
        const prefix = canonicalPrefix(`${ip}/${length}`);
        if (!prefix) continue;
        const targets = input.peers.filter((p) => !ad.spec.peers?.length || ad.spec.peers.includes(p.name));
        const to: string[] = [];
        for (const peer of targets) {
          const local6 = peer.session.localAddress?.includes(':');
          const sameFamily = peer.session.localAddress && (local6 ? 6 : 4) === parsed.family;
          const nextHop = sameFamily ? peer.session.localAddress : nodeAddress(input.node, parsed.family);
          if (!nextHop) continue; // no address of this family to be the next hop
          merge(perPeer.get(peer.name)!, {
            prefix,
            nextHop,
            ...(ad.resolved.communities.length ? { communities: ad.resolved.communities } : {}),
            ...(ad.resolved.largeCommunities.length
              ? { largeCommunities: ad.resolved.largeCommunities }
              : {}),
            ...(ad.spec.localPref !== undefined ? { localPref: ad.spec.localPref } : {}),
          });
          to.push(peer.name);
        }
        if (to.length) announcements.push({ service: `${namespace}/${name}`, ip, prefix, peers: to });
      }
    }
  }
  const routes = new Map(
    [...perPeer].map(([peer, m]) => [peer, [...m.values()].sort((a, b) => a.prefix.localeCompare(b.prefix))]),
  );
  return { routes, announcements, errors };
}
