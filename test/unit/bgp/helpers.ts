// Byte-vector helpers for the BGP tests: messages are written out in hex, as
// the RFC diagrams lay them out, so a reader can check them field by field.

/** "ff 00 1d" -> bytes; whitespace and "|" separators are ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex length: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export const MARKER = 'ff'.repeat(16);

/** A whole message: marker, length, type, then the body given in hex. */
export function message(type: number, bodyHex: string): Uint8Array {
  const body = hex(bodyHex);
  const length = 19 + body.length;
  return hex(
    `${MARKER} ${length.toString(16).padStart(4, '0')} ${type.toString(16).padStart(2, '0')} ${toHex(body)}`,
  );
}

/** An UPDATE from its withdrawn routes, path attributes and NLRI, each in hex. */
export function update(withdrawnHex: string, attrsHex: string, nlriHex: string): Uint8Array {
  const w = hex(withdrawnHex);
  const a = hex(attrsHex);
  const len = (n: number) => n.toString(16).padStart(4, '0');
  return message(2, `${len(w.length)} ${toHex(w)} ${len(a.length)} ${toHex(a)} ${nlriHex}`);
}

/** ORIGIN IGP, AS_PATH [65001] (4-octet), NEXT_HOP 192.0.2.1: the mandatory minimum for IPv4 NLRI. */
export const MANDATORY_ATTRS = '40 01 01 00 | 40 02 06 02 01 0000fde9 | 40 03 04 c0000201';
