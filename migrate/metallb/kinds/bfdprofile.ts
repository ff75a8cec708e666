// BFDProfile: same fields and ranges as MetalLB. Portico's speaker runs BFD
// with the intervals, multiplier and passive mode; it does not send echo
// packets or check the TTL of multi-hop packets, so a profile relying on
// those converts but is flagged.
import { BFD_DEFAULTS, validateBFDProfile } from '../../../crds/index.ts';
import type { MetalLBObject } from '../input.ts';
import { buildObject, sourcePath } from '../object.ts';
import type { Context } from '../object.ts';
import type { OutputObject } from '../report.ts';

export function convertBFDProfile(src: MetalLBObject, ctx: Context): OutputObject | undefined {
  const out = buildObject(src, 'BFDProfile', { ...src.spec }, validateBFDProfile, ctx);
  if (out === undefined) return undefined;
  if (out.spec.echoMode === true) {
    ctx.issues.warning(
      src.origin,
      sourcePath(src, 'spec.echoMode'),
      "Portico's speaker does not send BFD echo packets: the session runs on control packets alone",
    );
  }
  const ttl = out.spec.minimumTtl;
  if (typeof ttl === 'number' && ttl !== BFD_DEFAULTS.minimumTtl) {
    ctx.issues.warning(
      src.origin,
      sourcePath(src, 'spec.minimumTtl'),
      "Portico's speaker does not check the TTL of multi-hop BFD packets",
    );
  }
  return out;
}
