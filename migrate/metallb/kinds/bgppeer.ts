// BGPPeer, from v1beta1 or v1beta2. Portico's BGPPeer has every v1beta2
// field; v1beta1 is a subset with the same names (its node selectors have the
// LabelSelector shape already). Differences handled here:
// - peerPort 0 means the default port in MetalLB (v1beta1 allows it, and a
//   v1beta1 object read back at v1beta2 without MetalLB's conversion webhook
//   still carries it), so it is left unset;
// - v1beta1 timers are Go values, not pointers: holdTime or keepaliveTime
//   "0s" mean "unset" there, so they are left unset here;
// - an empty passwordSecret ({}, which v1beta2 writes back) is left out;
// - the password Secret must live in Portico's namespace: the reference is
//   rewritten and the Secret flagged for copying (the converter never reads Secrets);
// - vrf and interface are accepted by the CRD but Portico's speaker refuses them.
import { validateBGPPeer } from '../../../crds/index.ts';
import { isRecord } from '../input.ts';
import type { MetalLBObject } from '../input.ts';
import { buildObject, sourcePath } from '../object.ts';
import type { Context } from '../object.ts';
import type { OutputObject } from '../report.ts';

const isZeroDuration = (v: unknown) => typeof v === 'string' && /^0+([a-zµ]+)?$/.test(v);

export function convertBGPPeer(src: MetalLBObject, ctx: Context): OutputObject | undefined {
  const spec: Record<string, unknown> = { ...src.spec };
  if (spec.peerPort === 0) delete spec.peerPort;
  if (src.version === 'v1beta1') {
    for (const f of ['holdTime', 'keepaliveTime']) {
      if (isZeroDuration(spec[f])) {
        delete spec[f];
        ctx.issues.warning(
          src.origin,
          sourcePath(src, `spec.${f}`),
          'v1beta1 cannot tell "0s" from unset; left unset, so the default applies',
        );
      }
    }
  }
  const secret = spec.passwordSecret;
  if (isRecord(secret) && (secret.name === undefined || secret.name === '')) {
    delete spec.passwordSecret;
  } else if (isRecord(secret) && typeof secret.name === 'string') {
    const from = typeof secret.namespace === 'string' ? secret.namespace : (src.metadata.namespace ?? '');
    spec.passwordSecret = {
      ...secret,
      ...(secret.namespace !== undefined ? { namespace: ctx.namespace } : {}),
    };
    ctx.issues.warning(
      src.origin,
      sourcePath(src, 'spec.passwordSecret'),
      `copy Secret ${from ? `${from}/` : ''}${secret.name} (type kubernetes.io/basic-auth, key "password") into namespace ${ctx.namespace}: Portico reads it there`,
    );
  }
  const out = buildObject(src, 'BGPPeer', spec, validateBGPPeer, ctx);
  if (out === undefined) return undefined;
  if (out.spec.vrf) {
    ctx.issues.error(
      src.origin,
      sourcePath(src, 'spec.vrf'),
      "Portico's speaker does not peer from a VRF: the peer is converted but its session will not start",
    );
  }
  if (out.spec.interface !== undefined) {
    ctx.issues.error(
      src.origin,
      sourcePath(src, 'spec.interface'),
      "Portico's speaker does not do unnumbered BGP: the peer is converted but its session will not start",
    );
  }
  return out;
}
