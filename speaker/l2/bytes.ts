// Conversions between the text forms the rest of Portico uses (MAC
// "aa:bb:cc:dd:ee:ff", IP addresses) and the bytes on the wire. Pure.
import { formatIPValue, parseIP } from '../../operator/allocator/ip.ts';

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHER_HEADER = 14;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

export function isMac(text: string): boolean {
  return MAC.test(text);
}

export function macToBytes(mac: string): Uint8Array {
  if (!MAC.test(mac)) throw new Error(`not a MAC address: ${JSON.stringify(mac)}`);
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export function bytesToMac(b: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((b[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** 4 or 16 bytes of an IP address, or undefined when the text is not an address. */
export function ipToBytes(ip: string): Uint8Array | undefined {
  const r = parseIP(ip);
  if (!r.ok) return undefined;
  const size = r.value.family === 'IPv4' ? 4 : 16;
  const out = new Uint8Array(size);
  let v = r.value.value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The canonical text of the 4 (IPv4) or 16 (IPv6) bytes at offset. */
export function bytesToIp(b: Uint8Array, offset: number, size: 4 | 16): string {
  let v = 0n;
  for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(b[offset + i] ?? 0);
  return formatIPValue(size === 4 ? 'IPv4' : 'IPv6', v);
}

/** Writes an Ethernet II header; the payload starts at ETHER_HEADER. */
export function writeEtherHeader(frame: Uint8Array, dst: string, src: string, ethertype: number): void {
  frame.set(macToBytes(dst), 0);
  frame.set(macToBytes(src), 6);
  frame[12] = ethertype >> 8;
  frame[13] = ethertype & 0xff;
}

export function etherType(frame: Uint8Array): number {
  return frame.length < ETHER_HEADER ? -1 : ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
}
