// Community: the list of named community values maps one to one.
import { validateCommunity } from '../../../crds/index.ts';
import type { MetalLBObject } from '../input.ts';
import { buildObject } from '../object.ts';
import type { Context } from '../object.ts';
import type { OutputObject } from '../report.ts';

export function convertCommunity(src: MetalLBObject, ctx: Context): OutputObject | undefined {
  return buildObject(src, 'Community', { ...src.spec }, validateCommunity, ctx);
}
