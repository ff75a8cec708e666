import { describe, expect, it } from '@jest/globals';
import {
  ARP_REPLY,
  ARP_REQUEST,
  buildArp,
  buildArpReply,
  buildGratuitousArp,
  isRequestFor,
  parseArp,
} from '../../../speaker/l2/arp.ts';
import { bytesToIp, ipToBytes } from '../../../speaker/l2/bytes.ts';
import {
  buildNeighborAdvertisement,
  buildSolicitedAdvertisement,
  buildUnsolicitedAdvertisement,
  icmpv6Checksum,
  parseNeighborSolicitation,
} from '../../../speaker/l2/ndp.ts';

const CLIENT = 'aa:bb:cc:00:00:01';
const NODE = '02:00:00:00:00:0a';

/** A Neighbor Solicitation as a host sends it; built by hand here, from RFC 4861 §4.3. */
function solicitation(o: {
  source: string;
  target: string;
  sllao?: string;
  hop?: number;
  corrupt?: boolean;
}) {
  const t = ipToBytes(o.target)!;
  const group = new Uint8Array([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13]!, t[14]!, t[15]!]);
  const msg = new Uint8Array(24 + (o.sllao ? 8 : 0));
  msg[0] = 135;
  msg.set(t, 8);
  if (o.sllao) {
    msg[24] = 1;
    msg[25] = 1;
    msg.set(
      o.sllao.split(':').map((h) => parseInt(h, 16)),
      26,
    );
  }
  const sum = icmpv6Checksum(ipToBytes(o.source)!, group, msg);
  msg[2] = sum >> 8;
  msg[3] = (sum & 0xff) ^ (o.corrupt ? 1 : 0);
  const f = new Uint8Array(14 + 40 + msg.length);
  f.set([0x33, 0x33, 0xff, t[13]!, t[14]!, t[15]!], 0);
  f.set(
    CLIENT.split(':').map((h) => parseInt(h, 16)),
    6,
  );
  f.set([0x86, 0xdd], 12);
  f[14] = 0x60;
  f[18] = 0;
  f[19] = msg.length;
  f[20] = 58;
  f[21] = o.hop ?? 255;
  f.set(ipToBytes(o.source)!, 22);
  f.set(group, 38);
  f.set(msg, 54);
  return f;
}

describe('ARP codec', () => {
  const request = buildArp({
    ethDst: 'ff:ff:ff:ff:ff:ff',
    ethSrc: CLIENT,
    op: ARP_REQUEST,
    senderMac: CLIENT,
    senderIp: '192.0.2.1',
    targetMac: '00:00:00:00:00:00',
    targetIp: '192.0.2.10',
  });

  it('parses a request and builds the reply to the asker', () => {
    const p = parseArp(request)!;
    expect(p).toMatchObject({ op: 1, senderIp: '192.0.2.1', senderMac: CLIENT, targetIp: '192.0.2.10' });
    expect(isRequestFor(p, '192.0.2.10')).toBe(true);
    const reply = parseArp(buildArpReply(p, NODE))!;
    expect(reply).toEqual({
      ethDst: CLIENT,
      ethSrc: NODE,
      op: ARP_REPLY,
      senderMac: NODE,
      senderIp: '192.0.2.10',
      targetMac: CLIENT,
      targetIp: '192.0.2.1',
    });
  });

  it('pads frames to the Ethernet minimum', () => {
    expect(request.length).toBe(60);
  });

  it('builds gratuitous request (zero target MAC) and reply (our MAC as target)', () => {
    const req = parseArp(buildGratuitousArp(NODE, '192.0.2.10', ARP_REQUEST))!;
    const rep = parseArp(buildGratuitousArp(NODE, '192.0.2.10', ARP_REPLY))!;
    for (const g of [req, rep]) {
      expect(g).toMatchObject({
        ethDst: 'ff:ff:ff:ff:ff:ff',
        senderIp: '192.0.2.10',
        targetIp: '192.0.2.10',
      });
    }
    expect(req.targetMac).toBe('00:00:00:00:00:00');
    expect(rep.targetMac).toBe(NODE);
    // Our own announcement is not a request we should answer.
    expect(isRequestFor(req, '192.0.2.10')).toBe(false);
  });

  it('rejects truncated, non-Ethernet/IPv4 and unknown-opcode packets', () => {
    expect(parseArp(request.subarray(0, 41))).toBeUndefined();
    const bad = Uint8Array.from(request);
    bad[15] = 6; // htype 6
    expect(parseArp(bad)).toBeUndefined();
    const op = Uint8Array.from(request);
    op[21] = 9;
    expect(parseArp(op)).toBeUndefined();
    const ipv6 = Uint8Array.from(request);
    ipv6[12] = 0x86;
    ipv6[13] = 0xdd;
    expect(parseArp(ipv6)).toBeUndefined();
  });

  it('never throws on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const f = Uint8Array.from({ length: (i % 80) + 1 }, () => Math.floor(Math.random() * 256));
      if (i % 2 && f.length >= 14) f.set([0x08, 0x06], 12);
      expect(() => parseArp(f)).not.toThrow();
    }
  });
});

describe('NDP codec', () => {
  it('parses a solicitation with its source link-layer option', () => {
    const ns = parseNeighborSolicitation(
      solicitation({ source: 'fe80::1', target: '2001:db8::10', sllao: CLIENT }),
    );
    expect(ns).toEqual({
      ethSrc: CLIENT,
      source: 'fe80::1',
      destination: 'ff02::1:ff00:10',
      target: '2001:db8::10',
      sourceLinkAddress: CLIENT,
    });
  });

  it('drops solicitations RFC 4861 says to drop', () => {
    expect(
      parseNeighborSolicitation(solicitation({ source: 'fe80::1', target: '2001:db8::10', hop: 64 })),
    ).toBeUndefined();
    expect(
      parseNeighborSolicitation(solicitation({ source: 'fe80::1', target: '2001:db8::10', corrupt: true })),
    ).toBeUndefined();
    expect(
      parseNeighborSolicitation(solicitation({ source: '::', target: '2001:db8::10', sllao: CLIENT })),
    ).toBeUndefined();
    expect(parseNeighborSolicitation(solicitation({ source: 'fe80::1', target: 'ff02::1' }))).toBeUndefined();
  });

  it('answers a solicitation to the asker, Solicited and Override, with a valid checksum', () => {
    const ns = parseNeighborSolicitation(
      solicitation({ source: 'fe80::1', target: '2001:db8::10', sllao: CLIENT }),
    )!;
    const na = buildSolicitedAdvertisement(ns, NODE);
    expect(Buffer.from(na.subarray(0, 6)).toString('hex')).toBe(CLIENT.replaceAll(':', ''));
    expect(na[54]).toBe(136);
    expect(na[58]! & 0x60).toBe(0x60);
    expect(na[21]).toBe(255);
    expect(bytesToIp(na, 38, 16)).toBe('fe80::1');
    expect(bytesToIp(na, 62, 16)).toBe('2001:db8::10');
    expect(icmpv6Checksum(na.subarray(22, 38), na.subarray(38, 54), na.subarray(54))).toBe(0);
    // Target link-layer address option carries our MAC.
    expect(na[78]).toBe(2);
    expect(Buffer.from(na.subarray(80, 86)).toString('hex')).toBe(NODE.replaceAll(':', ''));
  });

  it('answers a DAD probe to all-nodes without Solicited', () => {
    const ns = parseNeighborSolicitation(solicitation({ source: '::', target: '2001:db8::10' }))!;
    const na = buildSolicitedAdvertisement(ns, NODE);
    expect(bytesToIp(na, 38, 16)).toBe('ff02::1');
    expect(na[58]! & 0x60).toBe(0x20);
  });

  it('builds the unsolicited advertisement with Override to all-nodes', () => {
    const na = buildUnsolicitedAdvertisement(NODE, '2001:db8::10');
    expect(Buffer.from(na.subarray(0, 6)).toString('hex')).toBe('333300000001');
    expect(na[58]).toBe(0x20);
    expect(icmpv6Checksum(na.subarray(22, 38), na.subarray(38, 54), na.subarray(54))).toBe(0);
  });

  it('rejects an advertisement (not a solicitation) and never throws on random bytes', () => {
    const na = buildNeighborAdvertisement({
      ethDst: CLIENT,
      mac: NODE,
      source: '2001:db8::10',
      destination: 'fe80::1',
      target: '2001:db8::10',
      solicited: true,
      override: true,
    });
    expect(parseNeighborSolicitation(na)).toBeUndefined();
    for (let i = 0; i < 2000; i++) {
      const f = Uint8Array.from({ length: (i % 120) + 1 }, () => Math.floor(Math.random() * 256));
      if (f.length > 60) {
        f.set([0x86, 0xdd], 12);
        f[20] = 58;
        f[21] = 255;
        f[54] = 135;
      }
      expect(() => parseNeighborSolicitation(f)).not.toThrow();
    }
  });
});
