// Portico's API (group portico.io, version v1alpha1): every kind's zod
// schemas, TypeScript types, validators and CRD metadata.

import type { CrdRef, KindDefinition } from './common.ts';
import { bfdProfileKind } from './bfdprofile.ts';
import { bgpAdvertisementKind } from './bgpadvertisement.ts';
import { bgpPeerKind } from './bgppeer.ts';
import { communityKind } from './community.ts';
import { ipAddressPoolKind } from './ipaddresspool.ts';
import { ipReservationKind } from './ipreservation.ts';
import { l2AdvertisementKind } from './l2advertisement.ts';
import { nodePortPoolKind } from './nodeportpool.ts';
import { serviceBackendsKind } from './servicebackends.ts';
import { serviceL2StatusKind } from './servicel2status.ts';
import { bgpSessionStatusKind } from './bgpsessionstatus.ts';
import { serviceBGPStatusKind } from './servicebgpstatus.ts';

export * from './common.ts';
export * from './net.ts';
export * from './ipaddresspool.ts';
export * from './l2advertisement.ts';
export * from './bgppeer.ts';
export * from './bgpadvertisement.ts';
export * from './bfdprofile.ts';
export * from './community.ts';
export * from './nodeportpool.ts';
export * from './servicebackends.ts';
export * from './ipreservation.ts';
export * from './servicel2status.ts';
export * from './bgpsessionstatus.ts';
export * from './servicebgpstatus.ts';

/** Every kind, in a fixed order (the order CRD files are generated in). */
export const ALL_KINDS: readonly KindDefinition[] = [
  ipAddressPoolKind,
  l2AdvertisementKind,
  bgpPeerKind,
  bgpAdvertisementKind,
  bfdProfileKind,
  communityKind,
  nodePortPoolKind,
  serviceBackendsKind,
  ipReservationKind,
  serviceL2StatusKind,
  bgpSessionStatusKind,
  serviceBGPStatusKind,
];

/** The CRDs the operator expects to be installed. */
export const ALL_CRDS: readonly CrdRef[] = ALL_KINDS.map(({ name, group, version, plural, kind }) => ({
  name,
  group,
  version,
  plural,
  kind,
}));
