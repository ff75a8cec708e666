import { describe, expect, it } from '@jest/globals';
import { ARP_REQUEST, buildArp } from '../../../speaker/l2/arp.ts';
import {
  KIND_ALIVE,
  KIND_GOODBYE,
  decodeHeartbeat,
  encodeHeartbeat,
} from '../../../speaker/l2/heartbeat-codec.ts';
import { respond } from '../../../speaker/l2/responder.ts';
import { OptionsError, parseOptions } from '../../../speaker/options.ts';

describe('heartbeat codec', () => {
  it('round-trips alive and goodbye', () => {
    for (const kind of [KIND_ALIVE, KIND_GOODBYE] as const) {
      const h = { kind, incarnation: 1764500000000n, node: 'worker-1.example' };
      expect(decodeHeartbeat(encodeHeartbeat(h))).toEqual(h);
    }
  });

  it('rejects other traffic, other versions and truncation', () => {
    const b = encodeHeartbeat({ kind: KIND_ALIVE, incarnation: 1n, node: 'n1' });
    expect(decodeHeartbeat(b.subarray(0, b.length - 1))).toBeUndefined();
    expect(decodeHeartbeat(Buffer.from('hello world, not a heartbeat'))).toBeUndefined();
    const v = Buffer.from(b);
    v[3] = 2;
    expect(decodeHeartbeat(v)).toBeUndefined();
    const k = Buffer.from(b);
    k[4] = 7;
    expect(decodeHeartbeat(k)).toBeUndefined();
  });
});

describe('responder', () => {
  const req = (target: string) =>
    buildArp({
      ethDst: 'ff:ff:ff:ff:ff:ff',
      ethSrc: 'aa:bb:cc:00:00:01',
      op: ARP_REQUEST,
      senderMac: 'aa:bb:cc:00:00:01',
      senderIp: '192.0.2.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: target,
    });
  const announced = new Map([
    ['192.0.2.10', { interfaces: [] }],
    ['192.0.2.11', { interfaces: ['eth1'] }],
  ]);

  it('answers only for announced IPs, and only on their interfaces', () => {
    const mac = '02:00:00:00:00:0a';
    expect(respond(req('192.0.2.10'), 'eth0', mac, announced)?.reply).toBeDefined();
    expect(respond(req('192.0.2.11'), 'eth0', mac, announced)).toEqual({ protocol: 'arp', ip: '192.0.2.11' });
    expect(respond(req('192.0.2.11'), 'eth1', mac, announced)?.reply).toBeDefined();
    expect(respond(req('192.0.2.99'), 'eth0', mac, announced)).toEqual({ protocol: 'arp', ip: '192.0.2.99' });
    expect(respond(new Uint8Array(60), 'eth0', mac, announced)).toBeUndefined();
  });
});

describe('speaker options', () => {
  it('has defaults and env fallbacks', () => {
    const o = parseOptions([], { NODE_NAME: 'n1', POD_NAMESPACE: 'portico' });
    expect(o).toMatchObject({
      nodeName: 'n1',
      namespace: 'portico',
      healthPort: 7473,
      dataplane: { mode: 'none' },
      l2: { enabled: true, heartbeatPort: 7947, heartbeatIntervalMs: 100, deadAfterMs: 350, interfaces: [] },
      bgp: { enabled: false, listenAddress: '::', listenPort: 179, bfdPort: 3784 },
    });
  });

  it('parses flags and names the bad one', () => {
    const o = parseOptions(
      ['--node-name=a', '--dataplane=nftables', '--l2=off', '--bgp=on', '--l2-interfaces=eth0, eth1'],
      {},
    );
    expect(o).toMatchObject({
      dataplane: { mode: 'nftables' },
      l2: { enabled: false, interfaces: ['eth0', 'eth1'] },
    });
    expect(() => parseOptions([], {})).toThrow(/--node-name/);
    expect(() => parseOptions(['--node-name=a', '--dataplane=iptables'], {})).toThrow(OptionsError);
    expect(() => parseOptions(['--node-name=a', '--l2=maybe'], {})).toThrow(/--l2/);
    expect(() => parseOptions(['--node-name=a', '--l2-dead-after=150ms'], {})).toThrow(/twice/);
    expect(() => parseOptions(['--node-name=a', '--cluster-cidrs=10.0.0.0/99'], {})).toThrow(/cluster-cidrs/);
  });
});
