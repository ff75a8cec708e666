// The heartbeat datagram between speakers. Small and fixed: magic "PL2", a
// version, a kind (alive or goodbye), the sender's incarnation (its start
// time, so a goodbye cannot be undone by a stale packet but a restart can),
// and its node name. Pure; anything malformed decodes to undefined.
const MAGIC = [0x50, 0x4c, 0x32]; // "PL2"
const VERSION = 1;
export const KIND_ALIVE = 1;
export const KIND_GOODBYE = 2;
const HEADER = 3 + 1 + 1 + 8 + 1;
const MAX_NAME = 253;

export interface Heartbeat {
  kind: typeof KIND_ALIVE | typeof KIND_GOODBYE;
  incarnation: bigint;
  node: string;
}

export function encodeHeartbeat(h: Heartbeat): Buffer {
  const name = Buffer.from(h.node, 'utf8');
  if (name.length === 0 || name.length > MAX_NAME) throw new Error(`node name of ${name.length} bytes`);
  const out = Buffer.alloc(HEADER + name.length);
  out.set(MAGIC, 0);
  out[3] = VERSION;
  out[4] = h.kind;
  out.writeBigUInt64BE(h.incarnation, 5);
  out[13] = name.length;
  out.set(name, HEADER);
  return out;
}

export function decodeHeartbeat(b: Uint8Array): Heartbeat | undefined {
  if (b.length < HEADER || b[0] !== MAGIC[0] || b[1] !== MAGIC[1] || b[2] !== MAGIC[2]) return undefined;
  if (b[3] !== VERSION) return undefined;
  const kind = b[4];
  if (kind !== KIND_ALIVE && kind !== KIND_GOODBYE) return undefined;
  const len = b[13] ?? 0;
  if (len === 0 || b.length !== HEADER + len) return undefined;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const node = buf.toString('utf8', HEADER, HEADER + len);
  if (Buffer.byteLength(node) !== len) return undefined; // not valid UTF-8
  return { kind, incarnation: buf.readBigUInt64BE(5), node };
}
