// Splits a TCP byte stream into BGP messages using the header's length field
// (RFC 4271 4.1). A broken header leaves no way to find the next message, so
// the framer reports the error once and then ignores the rest of the stream.
import { HEADER_LENGTH } from './constants.ts';
import type { BgpError } from './errors.ts';
import { checkHeader } from './message.ts';

export type Frame = { ok: true; bytes: Uint8Array } | { ok: false; error: BgpError };

export class MessageFramer {
  #buf = new Uint8Array(0);
  #failed = false;

  /** Bytes received but not yet part of a complete message. */
  get buffered(): number {
    return this.#buf.length;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Appends a chunk and returns every message it completes, in order. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) return [];
    const buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    const frames: Frame[] = [];
    let at = 0;
    while (buf.length - at >= HEADER_LENGTH) {
      const header = checkHeader(buf.subarray(at, at + HEADER_LENGTH));
      if ('code' in header) {
        this.#failed = true;
        this.#buf = new Uint8Array(0);
        frames.push({ ok: false, error: header });
        return frames;
      }
      if (buf.length - at < header.length) break;
      // A copy, so a frame outlives the socket's buffer it came from.
      frames.push({ ok: true, bytes: buf.slice(at, at + header.length) });
      at += header.length;
    }
    this.#buf = buf.slice(at);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
