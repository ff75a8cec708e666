// Fuzzing: random and mutated messages thrown at the decoder and the framer.
// Nothing may throw; every failure must be a NOTIFICATION the decoder is
// allowed to produce (header, OPEN or UPDATE errors), and whatever decodes
// must encode again. BGP_FUZZ_COUNT raises the count (the issue asks for 1M).
import { describe, expect, it } from '@jest/globals';
import { decodeMessage, encodeMessage, MessageFramer } from '../../../../speaker/bgp/codec/index.ts';
import type { DecodeContext } from '../../../../speaker/bgp/codec/index.ts';
import { input, prng, seeds } from '../fuzz-input.ts';

const COUNT = Number(process.env['BGP_FUZZ_COUNT'] ?? 200_000);

const CONTEXTS: DecodeContext[] = [
  { fourOctetAs: true },
  { fourOctetAs: false },
  { fourOctetAs: true, peerType: 'ebgp', firstAs: 65001 },
  { fourOctetAs: true, peerType: 'ibgp' },
];

describe(`decoder fuzz (${COUNT} messages)`, () => {
  it('never throws, fails only with header/OPEN/UPDATE errors, and re-encodes what it accepts', () => {
    const rand = prng(0x5eed);
    const pool = seeds();
    const tally = { ok: 0, treatAsWithdraw: 0, discard: 0, header: 0, open: 0, update: 0 };
    for (let i = 0; i < COUNT; i++) {
      const bytes = input(rand, pool);
      const ctx = CONTEXTS[i % CONTEXTS.length] as DecodeContext;
      let r;
      try {
        r = decodeMessage(bytes, ctx);
      } catch (err) {
        throw new Error(`decoder threw on ${Buffer.from(bytes).toString('hex')}`, { cause: err });
      }
      if (!r.ok) {
        const { code } = r.error;
        if (code === 1) tally.header++;
        else if (code === 2) tally.open++;
        else if (code === 3) tally.update++;
        else throw new Error(`unexpected error code ${code}`);
        continue;
      }
      tally.ok++;
      if (r.treatAsWithdraw) tally.treatAsWithdraw++;
      if (r.problems.some((p) => p.action === 'attribute-discard')) tally.discard++;
      // Re-encoding is the slow half; a sample of the accepted messages is enough.
      if (i % 8 !== 0) continue;
      try {
        encodeMessage(r.message, ctx);
      } catch (err) {
        // Re-encoding may grow a message (AS4_PATH towards a 2-octet peer) past 4096; nothing else may fail.
        if (!(err instanceof RangeError && /exceeds 4096/.test(err.message))) {
          throw new Error(`re-encoding ${Buffer.from(bytes).toString('hex')} failed`, { cause: err });
        }
      }
    }
    // The fuzzer must reach every outcome, or it is not testing much.
    for (const [k, v] of Object.entries(tally)) expect([k, v > COUNT / 1000]).toEqual([k, true]);
  });

  it('framer: random streams in random chunks never throw', () => {
    const rand = prng(42);
    const pool = seeds();
    const rounds = Math.max(1000, COUNT / 100);
    for (let i = 0; i < rounds; i++) {
      const framer = new MessageFramer();
      const parts = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => input(rand, pool));
      const stream = Buffer.concat(parts);
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(rand() * 200);
        for (const f of framer.push(stream.subarray(at, at + n))) {
          if (f.ok) decodeMessage(f.bytes);
          else expect(f.error.code).toBe(1);
        }
        at += n;
      }
    }
  });
});
