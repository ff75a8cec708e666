// A minimal MRT TABLE_DUMP_V2 file (RFC 6396 4.3): one peer and one path per
// IPv4 prefix, so gobgpd can inject a whole table through its own CLI
// (`gobgp mrt inject global <file>`) for the comparison in bgp-prefixes.ts.
// Path attributes come from our codec; in TABLE_DUMP_V2 AS numbers are
// always four octets.
import { encodePathAttributes } from '../speaker/bgp/codec/path-attributes.ts';
import type { PathAttributes } from '../speaker/bgp/codec/path-attributes.ts';

const TABLE_DUMP_V2 = 13;
const PEER_INDEX_TABLE = 1;
const RIB_IPV4_UNICAST = 2;

function record(subtype: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, Math.floor(Date.now() / 1000));
  v.setUint16(4, TABLE_DUMP_V2);
  v.setUint16(6, subtype);
  v.setUint32(8, body.length);
  out.set(body, 12);
  return out;
}

const ipv4 = (s: string) => s.split('.').map(Number);

export function mrtTable(o: {
  peerId: string;
  peerIp: string;
  peerAs: number;
  prefixes: string[];
  attrs: PathAttributes;
}): Buffer {
  // PEER_INDEX_TABLE: collector id, empty view name, one IPv4 peer with a 4-octet AS (type 0b10).
  const peer = [...ipv4(o.peerId), 0, 0, 0, 1, 0x02, ...ipv4(o.peerId), ...ipv4(o.peerIp), 0, 0, 0, 0];
  const peerTable = new Uint8Array(peer);
  new DataView(peerTable.buffer).setUint32(peer.length - 4, o.peerAs);
  const attrs = encodePathAttributes(o.attrs, { fourOctetAs: true });
  const parts: Uint8Array[] = [record(PEER_INDEX_TABLE, peerTable)];
  o.prefixes.forEach((prefix, seq) => {
    const [addr = '', lenText = '32'] = prefix.split('/');
    const len = Number(lenText);
    const bytes = ipv4(addr).slice(0, Math.ceil(len / 8));
    const body = new Uint8Array(4 + 1 + bytes.length + 2 + 8 + attrs.length);
    const v = new DataView(body.buffer);
    let at = 0;
    v.setUint32(at, seq);
    at += 4;
    body[at++] = len;
    body.set(bytes, at);
    at += bytes.length;
    v.setUint16(at, 1); // one RIB entry
    at += 2;
    v.setUint16(at, 0); // peer index
    v.setUint32(at + 2, Math.floor(Date.now() / 1000));
    v.setUint16(at + 6, attrs.length);
    body.set(attrs, at + 8);
    parts.push(record(RIB_IPV4_UNICAST, body));
  });
  return Buffer.concat(parts);
}
