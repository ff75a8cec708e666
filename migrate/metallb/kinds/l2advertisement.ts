// L2Advertisement: ipAddressPools, ipAddressPoolSelectors, nodeSelectors and
// interfaces map one to one. References to pools are checked in references.ts.
import { validateL2Advertisement } from '../../../crds/index.ts';
import type { MetalLBObject } from '../input.ts';
import { buildObject } from '../object.ts';
import type { Context } from '../object.ts';
import type { OutputObject } from '../report.ts';

export function convertL2Advertisement(src: MetalLBObject, ctx: Context): OutputObject | undefined {
  return buildObject(src, 'L2Advertisement', { ...src.spec }, validateL2Advertisement, ctx);
}
