// What this node's BGPSessionStatus and ServiceBGPStatus objects should be,
// from the agent's state: one object per (node, BGPPeer) with the session's
// state, and one per (node, Service) this node announces, with its peers.
// Each node owns only objects carrying its node label, so the writer can
// delete whatever of its own is not in this plan. Pure.
import { createHash } from 'node:crypto';
import type { BGPSessionStatusStatus } from '../../crds/bgpsessionstatus.ts';
import type { ServiceBGPStatusStatus } from '../../crds/servicebgpstatus.ts';
import type { ServiceAnnouncement } from './announce.ts';
import type { BfdState } from './bfd/packet.ts';
import type { BgpState } from './fsm.ts';

export const NODE_LABEL = 'portico.io/node';
export const PEER_LABEL = 'portico.io/peer';
export const SERVICE_NAME_LABEL = 'portico.io/service-name';
export const SERVICE_NAMESPACE_LABEL = 'portico.io/service-namespace';

export interface SessionSnapshot {
  /** BGPPeer name. */
  peer: string;
  peerAddress: string;
  state: BgpState;
  /** When the session entered `state`, ms since the epoch. */
  stateSince: number;
  lastError?: string;
  /** Undefined when the peer has no BFDProfile. */
  bfd?: BfdState;
  prefixesAnnounced: number;
}

export interface DesiredObject<S> {
  name: string;
  labels: Record<string, string>;
  status: S;
}

/** The Node, as the owner of its objects: Kubernetes deletes them with it. */
export interface NodeOwner {
  apiVersion: 'v1';
  kind: 'Node';
  name: string;
  uid: string;
}

export interface BgpStatusPlan {
  sessions: DesiredObject<BGPSessionStatusStatus>[];
  services: DesiredObject<ServiceBGPStatusStatus>[];
  /** Set on objects this node creates, when the Node's uid is known. */
  owner?: NodeOwner;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * "<parts joined by dots>" when that is a valid object name and cannot be
 * read two ways (only the last part may contain dots), else a hash of the parts.
 */
export function objectNameOf(prefix: string, parts: readonly string[]): string {
  const readable = parts.join('.');
  const unambiguous = parts.slice(0, -1).every((p) => !p.includes('.'));
  if (unambiguous && readable.length <= 253 && SUBDOMAIN.test(readable)) return readable;
  const digest = createHash('sha256').update(parts.join('/')).digest('hex');
  return `${prefix}-${digest.slice(0, 40)}`;
}

/** Kubernetes timestamps are whole seconds. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

const bfdOf = (s: BfdState | undefined): 'Up' | 'Down' | 'none' =>
  s === undefined ? 'none' : s === 'Up' ? 'Up' : 'Down';

export function planBgpStatus(
  node: string,
  sessions: readonly SessionSnapshot[],
  announcements: readonly ServiceAnnouncement[],
  nodeUid?: string,
): BgpStatusPlan {
  const sessionObjects = [...sessions]
    .sort((a, b) => a.peer.localeCompare(b.peer))
    .map((s) => ({
      name: objectNameOf('bgp', [s.peer, node]),
      labels: { [NODE_LABEL]: node, [PEER_LABEL]: s.peer },
      status: {
        node,
        peer: s.peer,
        peerAddress: s.peerAddress,
        state: s.state,
        lastTransitionTime: rfc3339(s.stateSince),
        ...(s.lastError !== undefined ? { lastError: s.lastError.slice(0, 1024) } : {}),
        bfd: bfdOf(s.bfd),
        prefixesAnnounced: s.prefixesAnnounced,
      },
    }));
  const byService = new Map<string, { peers: Set<string>; prefixes: Set<string> }>();
  for (const a of announcements) {
    if (a.peers.length === 0) continue;
    const e = byService.get(a.service) ?? { peers: new Set(), prefixes: new Set() };
    for (const p of a.peers) e.peers.add(p);
    e.prefixes.add(a.prefix);
    byService.set(a.service, e);
  }
  const serviceObjects = [...byService]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, e]) => {
      const [namespace = '', name = ''] = key.split('/');
      return {
        name: objectNameOf('bgp', [namespace, name, node]),
        labels: { [NODE_LABEL]: node, [SERVICE_NAME_LABEL]: name, [SERVICE_NAMESPACE_LABEL]: namespace },
        status: {
          node,
          serviceName: name,
          serviceNamespace: namespace,
          peers: [...e.peers].sort(),
          prefixes: [...e.prefixes].sort(),
        },
      };
    });
  return {
    sessions: sessionObjects,
    services: serviceObjects,
    ...(nodeUid ? { owner: { apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUid } as const } : {}),
  };
}
