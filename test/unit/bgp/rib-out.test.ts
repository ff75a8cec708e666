import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { AdjRibOut } from '../../../speaker/bgp/rib-out.ts';
import type { OutboundRoute, RibOutPeer } from '../../../speaker/bgp/rib-out.ts';
import {
  canonicalPrefix,
  decodeMessage,
  encodeMessage,
  endOfRibFamily,
} from '../../../speaker/bgp/codec/index.ts';
import type { UpdateMessage } from '../../../speaker/bgp/codec/index.ts';
import { ipv4Prefix, ipv6Prefix } from './arbitraries.ts';

const EBGP: RibOutPeer = {
  localAs: 65001,
  ibgp: false,
  fourOctetAs: true,
  families: ['ipv4-unicast', 'ipv6-unicast'],
};
const IBGP: RibOutPeer = { ...EBGP, ibgp: true };

const v4 = (prefix: string, extra: Partial<OutboundRoute> = {}): OutboundRoute => ({
  prefix,
  nextHop: '192.0.2.1',
  ...extra,
});
const v6 = (prefix: string, extra: Partial<OutboundRoute> = {}): OutboundRoute => ({
  prefix,
  nextHop: '2001:db8::1',
  ...extra,
});

/** The peer's view: replays UPDATEs into prefix -> attributes, as a receiver would. */
function replay(updates: UpdateMessage[], into = new Map<string, string>()): Map<string, string> {
  for (const u of updates) {
    for (const p of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) into.delete(p);
    const { mpReach, mpUnreach: _u, ...shared } = u.attributes;
    for (const p of u.nlri) into.set(p, JSON.stringify(shared));
    for (const p of mpReach?.nlri ?? [])
      into.set(p, JSON.stringify({ ...shared, nextHop: mpReach?.nextHops[0] }));
  }
  return into;
}

describe('AdjRibOut', () => {
  it('groups prefixes with equal attributes into one UPDATE and ends the first sync with End-of-RIB per family', () => {
    const rib = new AdjRibOut(EBGP);
    const { updates, rejected } = rib.sync([
      v4('192.0.2.10/32', { communities: [2, 1, 2] }),
      v4('192.0.2.11/32', { communities: [1, 2] }),
      v4('192.0.2.12/32'),
      v6('2001:db8::10/128'),
      v6('2001:db8::11'),
    ]);
    expect(rejected).toEqual([]);
    expect(updates).toHaveLength(5);
    expect(updates[0]).toEqual({
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 'igp',
        asPath: [{ kind: 'sequence', asns: [65001] }],
        nextHop: '192.0.2.1',
        communities: [1, 2],
      },
      nlri: ['192.0.2.10/32', '192.0.2.11/32'],
    });
    expect(updates[1]).toMatchObject({ nlri: ['192.0.2.12/32'], attributes: { nextHop: '192.0.2.1' } });
    expect(updates[2]).toEqual({
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 'igp',
        asPath: [{ kind: 'sequence', asns: [65001] }],
        mpReach: {
          family: 'ipv6-unicast',
          nextHops: ['2001:db8::1'],
          nlri: ['2001:db8::10/128', '2001:db8::11/128'],
        },
      },
      nlri: [],
    });
    expect(updates.slice(3).map(endOfRibFamily)).toEqual(['ipv4-unicast', 'ipv6-unicast']);
  });

  it('sends only the difference afterwards: withdrawals, new prefixes and changed attributes', () => {
    const rib = new AdjRibOut(EBGP);
    rib.sync([v4('10.0.0.1/32'), v4('10.0.0.2/32'), v6('2001:db8::1/128')]);
    expect(rib.sync([v4('10.0.0.1/32'), v4('10.0.0.2/32'), v6('2001:db8::1/128')]).updates).toEqual([]);
    const { updates } = rib.sync([
      v4('10.0.0.1/32', { largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }] }),
      v4('10.0.0.3/32'),
    ]);
    expect(updates).toEqual([
      { type: 'update', withdrawn: ['10.0.0.2/32'], attributes: {}, nlri: [] },
      {
        type: 'update',
        withdrawn: [],
        attributes: { mpUnreach: { family: 'ipv6-unicast', withdrawn: ['2001:db8::1/128'] } },
        nlri: [],
      },
      expect.objectContaining({ nlri: ['10.0.0.1/32'] }),
      expect.objectContaining({ nlri: ['10.0.0.3/32'] }),
    ]);
    expect([...rib.advertised].sort()).toEqual(['10.0.0.1/32', '10.0.0.3/32']);
  });

  it('adds LOCAL_PREF (default 100) and an empty AS_PATH towards iBGP only (RFC 4271 5.1.2, 5.1.5)', () => {
    const ibgp = new AdjRibOut(IBGP).sync([v4('10.0.0.1/32'), v4('10.0.0.2/32', { localPref: 200 })]).updates;
    expect(ibgp.slice(0, 2).map((u) => [u.nlri, u.attributes.localPref, u.attributes.asPath])).toEqual([
      [['10.0.0.1/32'], 100, []],
      [['10.0.0.2/32'], 200, []],
    ]);
    const ebgp = new AdjRibOut(EBGP).sync([v4('10.0.0.2/32', { localPref: 200 })]).updates;
    expect(ebgp[0]?.attributes.localPref).toBeUndefined();
  });

  it('holds back families the peer did not negotiate, and rejects malformed routes', () => {
    const rib = new AdjRibOut({ ...EBGP, families: ['ipv4-unicast'] });
    const { updates, rejected } = rib.sync([
      v6('2001:db8::1/128'),
      v4('10.0.0.1/32'),
      v4('nope'),
      v4('10.0.0.2/32', { nextHop: '2001:db8::1' }),
    ]);
    expect(updates.map((u) => u.nlri)).toEqual([['10.0.0.1/32'], []]);
    expect(rejected.map((r) => r.prefix)).toEqual(['nope', '10.0.0.2/32']);
  });

  it('re-advertises a family on ROUTE-REFRESH (RFC 2918 4)', () => {
    const rib = new AdjRibOut(EBGP);
    rib.sync([v4('10.0.0.1/32'), v6('2001:db8::1/128')]);
    expect(rib.refresh('ipv6-unicast').map((u) => u.attributes.mpReach?.nlri)).toEqual([['2001:db8::1/128']]);
  });

  it('splits thousands of prefixes into UPDATEs of at most 4096 octets', () => {
    const routes: OutboundRoute[] = [];
    for (let i = 0; i < 3000; i++) {
      routes.push(v4(`10.${(i >> 8) & 0xff}.${i & 0xff}.1/32`, { communities: [65001 << 16] }));
      routes.push(v6(`2001:db8::${i.toString(16)}/128`));
    }
    const { updates } = new AdjRibOut(EBGP).sync(routes);
    const sizes = updates.map((u) => encodeMessage(u).length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096);
    // Packed tightly: IPv4 /32s take 5 octets each, so ~800 per UPDATE.
    expect(updates.length).toBeLessThan(6000 / 180);
    expect(replay(updates).size).toBe(6000);
  });

  it('property: after any series of syncs the peer holds exactly the desired routes', () => {
    const route: fc.Arbitrary<OutboundRoute> = fc.oneof(
      fc.record({
        prefix: ipv4Prefix,
        nextHop: fc.constantFrom('192.0.2.1', '192.0.2.2'),
        communities: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
      }),
      fc.record({ prefix: ipv6Prefix, nextHop: fc.constantFrom('2001:db8::1', '2001:db8::2') }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(route, { maxLength: 30 }), { minLength: 1, maxLength: 6 }), (rounds) => {
        const rib = new AdjRibOut(EBGP);
        const peer = new Map<string, string>();
        for (const desired of rounds) {
          const { updates } = rib.sync(desired);
          for (const u of updates) {
            const bytes = encodeMessage(u);
            expect(bytes.length).toBeLessThanOrEqual(4096);
            const r = decodeMessage(bytes);
            expect(r).toMatchObject({ ok: true, treatAsWithdraw: false });
          }
          replay(updates, peer);
          // The last route given for a prefix wins.
          const want = new Map(desired.map((r) => [canonicalPrefix(r.prefix) as string, r]));
          expect([...peer.keys()].sort()).toEqual([...want.keys()].sort());
          expect([...rib.advertised].sort()).toEqual([...want.keys()].sort());
          for (const [prefix, r] of want) {
            const got = JSON.parse(peer.get(prefix) ?? '{}') as { nextHop?: string; communities?: number[] };
            const communities = [...new Set(r.communities ?? [])].sort((a, b) => a - b);
            expect([got.nextHop, got.communities ?? []]).toEqual([r.nextHop, communities]);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
