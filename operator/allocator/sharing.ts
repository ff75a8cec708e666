// MetalLB's IP sharing rules as a pure function.
//
// Several Services may use one address only when, for every pair:
// - both carry a sharing key (allow-shared-ip annotation) and the keys match;
// - their backend keys match. The backend key is the canonical selector when
//   externalTrafficPolicy is Local and "" when it is Cluster. So two Cluster
//   Services share freely, two Local Services must select the same pods, and a
//   Local Service cannot share with a Cluster one (MetalLB's rule: the node
//   announcing the address must have local endpoints for every user);
// - no protocol+port pair is used by both (TCP/53 and UDP/53 can coexist).
// A Service that is the only user of an address may change its key freely.

import { quote } from './errors.ts';
import { labelsString } from './selector.ts';
import type { Labels } from './selector.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export interface ServicePort {
  readonly protocol: Protocol;
  readonly port: number;
}

export type ExternalTrafficPolicy = 'Cluster' | 'Local';

/** One user of an address, as far as sharing is concerned. */
export interface SharingParty {
  readonly service: string;
  /** "" when the Service does not allow sharing. */
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
}

export type SharingConflictKind = 'NotShared' | 'SharingKeyMismatch' | 'BackendMismatch' | 'PortInUse';

export interface SharingConflict {
  readonly kind: SharingConflictKind;
  /** The existing users that block the candidate. */
  readonly services: readonly string[];
  readonly port?: ServicePort;
  readonly message: string;
}

export function backendKey(policy: ExternalTrafficPolicy | undefined, selector: Labels | undefined): string {
  return policy === 'Local' ? `local:${labelsString(selector)}` : '';
}

export function portString(p: ServicePort): string {
  return `${p.protocol}/${p.port}`;
}

/**
 * Whether `candidate` may use an address already used by `existing`. Users with
 * the candidate's own service key are ignored (a Service never blocks itself).
 */
export function checkSharing(
  existing: Iterable<SharingParty>,
  candidate: SharingParty,
): SharingConflict | undefined {
  const others = [...existing].filter((p) => p.service !== candidate.service);
  if (others.length === 0) return undefined;
  const names = others.map((o) => o.service);
  const other = others[0] as SharingParty;
  if (candidate.sharingKey === '') {
    return {
      kind: 'NotShared',
      services: names,
      message: `it is in use by ${names.join(', ')} and this Service has no sharing key`,
    };
  }
  const noKey = others.filter((o) => o.sharingKey === '');
  if (noKey.length > 0) {
    return {
      kind: 'NotShared',
      services: noKey.map((o) => o.service),
      message: `it is in use by ${noKey.map((o) => o.service).join(', ')}, which does not allow sharing`,
    };
  }
  const wrongKey = others.filter((o) => o.sharingKey !== candidate.sharingKey);
  if (wrongKey.length > 0) {
    return {
      kind: 'SharingKeyMismatch',
      services: wrongKey.map((o) => o.service),
      message: `it is in use by ${wrongKey.map((o) => o.service).join(', ')} with sharing key ${quote(other.sharingKey)}, not ${quote(candidate.sharingKey)}`,
    };
  }
  const wrongBackend = others.filter((o) => o.backendKey !== candidate.backendKey);
  if (wrongBackend.length > 0) {
    return {
      kind: 'BackendMismatch',
      services: wrongBackend.map((o) => o.service),
      message: `it is shared with ${wrongBackend.map((o) => o.service).join(', ')}, and sharing with externalTrafficPolicy Local needs both Services to be Local with the same selector`,
    };
  }
  for (const p of candidate.ports) {
    const user = others.find((o) => o.ports.some((q) => q.protocol === p.protocol && q.port === p.port));
    if (user !== undefined) {
      return {
        kind: 'PortInUse',
        services: [user.service],
        port: p,
        message: `port ${portString(p)} on it is already used by ${user.service}`,
      };
    }
  }
  return undefined;
}
