// Bounds-checked byte access. Decoding must never throw (a peer controls every
// byte), so the reader never indexes past its end: a short read returns zeros
// and sets `overrun`, and callers check it where the RFC names an error.

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  #pos: number;
  overrun = false;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#pos = Math.min(start, end);
    this.#end = Math.min(end, bytes.length);
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #take(n: number): number {
    if (n > this.remaining) {
      this.overrun = true;
      this.#pos = this.#end;
      return -1;
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(): number {
    const at = this.#take(1);
    return at < 0 ? 0 : (this.#bytes[at] ?? 0);
  }

  u16(): number {
    const at = this.#take(2);
    if (at < 0) return 0;
    return ((this.#bytes[at] ?? 0) << 8) | (this.#bytes[at + 1] ?? 0);
  }

  u32(): number {
    const at = this.#take(4);
    if (at < 0) return 0;
    const b = this.#bytes;
    // Multiply rather than shift the top byte: `<< 24` would go negative.
    return (b[at] ?? 0) * 0x1000000 + (((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0));
  }

  /** A view (not a copy) of the next n bytes; empty and `overrun` if fewer remain. */
  bytes(n: number): Uint8Array {
    const at = this.#take(n);
    return at < 0 ? new Uint8Array(0) : this.#bytes.subarray(at, at + n);
  }
}

/** An append-only byte buffer for encoding. */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(initialSize = 64) {
    this.#buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): number {
    if (this.#len + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    const at = this.#len;
    this.#len += n;
    return at;
  }

  // Each writer reserves first and reads #buf after: `this.#buf[this.#reserve(1)]`
  // would evaluate #buf before #reserve replaced it with a larger buffer.
  u8(v: number): this {
    const at = this.#reserve(1);
    this.#buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.#reserve(2);
    this.#buf[at] = (v >>> 8) & 0xff;
    this.#buf[at + 1] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    const at = this.#reserve(4);
    this.#buf[at] = (v >>> 24) & 0xff;
    this.#buf[at + 1] = (v >>> 16) & 0xff;
    this.#buf[at + 2] = (v >>> 8) & 0xff;
    this.#buf[at + 3] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
    return this;
  }

  /** Overwrites a 16-bit value already written, for length fields known only afterwards. */
  patchU16(at: number, v: number): void {
    this.#buf[at] = (v >>> 8) & 0xff;
    this.#buf[at + 1] = v & 0xff;
  }

  toBytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

export function u16Bytes(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
