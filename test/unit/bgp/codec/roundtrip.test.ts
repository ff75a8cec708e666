// Properties: what we encode decodes to the same message, and re-encodes to
// the same octets, in both 4-octet and 2-octet AS sessions.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../../../speaker/bgp/codec/index.ts';
import type { BgpMessage } from '../../../../speaker/bgp/codec/index.ts';
import { bgpMessage, updateMessage } from '../arbitraries.ts';

/** Encodes, skipping messages the generator made larger than 4096 octets. */
function encodeOrSkip(m: BgpMessage, fourOctetAs = true): Uint8Array | undefined {
  try {
    return encodeMessage(m, { fourOctetAs });
  } catch (err) {
    if (err instanceof RangeError && /exceeds 4096/.test(err.message)) return undefined;
    throw err;
  }
}

describe('codec round trip', () => {
  it('property: decode(encode(m)) equals m, with no errors reported', () => {
    fc.assert(
      fc.property(bgpMessage, (m) => {
        const bytes = encodeOrSkip(m);
        fc.pre(bytes !== undefined);
        const r = decodeMessage(bytes as Uint8Array);
        if (!r.ok) throw new Error(r.error.reason);
        expect(r.message).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: encode(decode(bytes)) gives back the same octets', () => {
    fc.assert(
      fc.property(bgpMessage, (m) => {
        const bytes = encodeOrSkip(m);
        fc.pre(bytes !== undefined);
        const r = decodeMessage(bytes as Uint8Array);
        expect(r.ok && encodeMessage(r.message)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a 2-octet AS session carries 4-octet paths through AS4_PATH (RFC 6793)', () => {
    const ctx = { fourOctetAs: false };
    fc.assert(
      fc.property(updateMessage(ctx), (m) => {
        const bytes = encodeOrSkip(m, false);
        fc.pre(bytes !== undefined);
        const r = decodeMessage(bytes as Uint8Array, ctx);
        if (!r.ok) throw new Error(r.error.reason);
        expect(r.message).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: UPDATEs with all mandatory attributes report no RFC 7606 problems', () => {
    fc.assert(
      fc.property(updateMessage(), (m) => {
        m.attributes.origin ??= 'igp';
        m.attributes.asPath ??= [];
        m.attributes.nextHop ??= '192.0.2.1';
        const bytes = encodeOrSkip(m);
        fc.pre(bytes !== undefined);
        expect(decodeMessage(bytes as Uint8Array)).toMatchObject({
          ok: true,
          treatAsWithdraw: false,
          problems: [],
        });
      }),
      { numRuns: 1000 },
    );
  });
});
