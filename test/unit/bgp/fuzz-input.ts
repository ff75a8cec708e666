// Fuzz inputs for the BGP decoder and live sessions: noise behind a header,
// or valid messages bent out of shape, from a seeded generator so that any
// failure can be replayed.
import fc from 'fast-check';
import { encodeMessage } from '../../../speaker/bgp/codec/index.ts';
import { bgpMessage, updateMessage } from './arbitraries.ts';

/** mulberry32: a seeded generator, so a failure can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seeds(): Uint8Array[] {
  const msgs = [
    ...fc.sample(bgpMessage, { numRuns: 400, seed: 7 }),
    ...fc.sample(updateMessage(), { numRuns: 400, seed: 8 }),
  ];
  const out: Uint8Array[] = [];
  for (const m of msgs) {
    try {
      out.push(encodeMessage(m));
    } catch {
      // Over 4096 octets: not a seed.
    }
  }
  return out;
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function setLength(b: Uint8Array): Uint8Array {
  if (b.length >= 18) {
    b[16] = (b.length >> 8) & 0xff;
    b[17] = b.length & 0xff;
  }
  return b;
}

/** One fuzz input: pure noise behind a header, or a valid message bent out of shape. */
/** `framed`: the length field always matches, as a live stream needs to stay in step. */
export function input(rand: () => number, pool: Uint8Array[], framed = false): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const mode = int(10);
  if (mode === 0) {
    const b = new Uint8Array(19 + int(80));
    b.fill(0xff, 0, 16);
    b[18] = 1 + int(6);
    for (let i = 19; i < b.length; i++) b[i] = int(256);
    return framed || rand() < 0.9 ? setLength(b) : b;
  }
  const seed = pool[int(pool.length)] as Uint8Array;
  let b: Uint8Array = seed.slice();
  const edits = 1 + int(6);
  for (let i = 0; i < edits; i++) {
    const kind = int(6);
    const at = int(b.length);
    if (kind === 0) b[at] = int(256);
    else if (kind === 1) b[at] = (b[at] ?? 0) ^ (1 << int(8));
    else if (kind === 2 && b.length > 19) b = join(b.subarray(0, at), b.subarray(at + 1));
    else if (kind === 3) b = join(b.subarray(0, at), Uint8Array.of(int(256)), b.subarray(at));
    else if (kind === 4) b = b.slice(0, 19 + int(Math.max(1, b.length - 19)));
    else {
      const other = pool[int(pool.length)] as Uint8Array;
      const from = 19 + int(Math.max(1, other.length - 19));
      b = join(b.subarray(0, Math.max(19, at)), other.subarray(from, from + int(64)));
    }
  }
  // Usually keep the header consistent, so the body parsers get exercised.
  return framed || rand() < 0.85 ? setLength(b) : b;
}
