// BGPAdvertisement: aggregation lengths, localPref, communities (values or
// Community aliases), pools, node selectors and peers map one to one.
// References to pools, peers and aliases are checked in references.ts.
import { validateBGPAdvertisement } from '../../../crds/index.ts';
import type { MetalLBObject } from '../input.ts';
import { buildObject } from '../object.ts';
import type { Context } from '../object.ts';
import type { OutputObject } from '../report.ts';

export function convertBGPAdvertisement(src: MetalLBObject, ctx: Context): OutputObject | undefined {
  return buildObject(src, 'BGPAdvertisement', { ...src.spec }, validateBGPAdvertisement, ctx);
}
