// IPAddressPool: every MetalLB field (addresses, autoAssign, avoidBuggyIPs,
// serviceAllocation) exists in Portico with the same meaning and defaults.
import { validateIPAddressPool } from '../../../crds/index.ts';
import type { MetalLBObject } from '../input.ts';
import { buildObject } from '../object.ts';
import type { Context } from '../object.ts';
import type { OutputObject } from '../report.ts';

export function convertIPAddressPool(src: MetalLBObject, ctx: Context): OutputObject | undefined {
  return buildObject(src, 'IPAddressPool', { ...src.spec }, validateIPAddressPool, ctx);
}
