import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { encodeMessage, MessageFramer } from '../../../../speaker/bgp/codec/index.ts';
import { bgpMessage } from '../arbitraries.ts';
import { hex, MARKER } from '../helpers.ts';

function encodable(m: Parameters<typeof encodeMessage>[0]): Uint8Array | undefined {
  try {
    return encodeMessage(m);
  } catch {
    return undefined;
  }
}

describe('MessageFramer', () => {
  it('property: however the stream is cut, the same messages come out in order', () => {
    fc.assert(
      fc.property(
        fc.array(bgpMessage, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 700 })),
        (msgs, cuts) => {
          const frames = msgs.map(encodable).filter((b): b is Uint8Array => b !== undefined);
          const stream = Buffer.concat(frames);
          const framer = new MessageFramer();
          const out: Uint8Array[] = [];
          let at = 0;
          for (const cut of [...cuts, stream.length]) {
            const next = Math.min(stream.length, at + cut);
            for (const f of framer.push(stream.subarray(at, next))) {
              if (!f.ok) throw new Error(f.error.reason);
              out.push(f.bytes);
            }
            at = next;
            if (at >= stream.length) break;
          }
          expect(out.map((b) => Buffer.from(b).toString('hex'))).toEqual(
            frames.map((b) => Buffer.from(b).toString('hex')),
          );
          expect(framer.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('waits for a header before judging it', () => {
    const framer = new MessageFramer();
    expect(framer.push(hex('ffff'))).toEqual([]);
    expect(framer.buffered).toBe(2);
  });

  it('reports a broken header once and then ignores the stream (RFC 4271 6.1)', () => {
    const framer = new MessageFramer();
    const keepalive = hex(`${MARKER} 0013 04`);
    const out = framer.push(Buffer.concat([keepalive, hex(`${MARKER} 0005 04`), keepalive]));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ ok: true });
    expect(out[1]).toMatchObject({ ok: false, error: { code: 1, subcode: 2 } });
    expect(framer.failed).toBe(true);
    expect(framer.push(keepalive)).toEqual([]);
  });

  it('rejects a lost marker as Connection Not Synchronized', () => {
    expect(new MessageFramer().push(hex(`00${'ff'.repeat(15)} 0013 04`))).toMatchObject([
      { ok: false, error: { code: 1, subcode: 1 } },
    ]);
  });
});
