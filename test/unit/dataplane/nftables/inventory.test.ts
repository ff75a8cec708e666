import { describe, expect, it } from '@jest/globals';
import { parseInventory } from '../../../../speaker/dataplane/nftables/inventory.ts';

// The shape `nft -j list table inet portico` prints (nftables 1.0.6).
const listing = {
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'portico', handle: 1 } },
    {
      map: {
        family: 'inet',
        name: 'service-ips4',
        table: 'portico',
        type: ['ipv4_addr', 'inet_proto', 'inet_service'],
        handle: 1,
        map: 'verdict',
        elem: [
          [{ concat: ['192.0.2.10', 'tcp', 80] }, { goto: { target: 'vs-A' } }],
          [{ concat: ['192.0.2.11', 17, 53] }, { jump: { target: 'vs-B' } }],
          [{ elem: { val: { concat: ['192.0.2.12', 'sctp', 3868] } } }, { goto: { target: 'vs-C' } }],
          ['malformed'],
          [{ concat: ['192.0.2.13', 'tcp', 80] }, { weird: 1 }],
        ],
      },
    },
    {
      map: {
        family: 'inet',
        name: 'no-endpoint-services6',
        table: 'portico',
        type: ['ipv6_addr', 'inet_proto', 'inet_service'],
        handle: 2,
        map: 'verdict',
        elem: [
          [{ concat: ['2001:DB8:0::10', 'tcp', 80] }, { drop: null }],
          [{ concat: ['2001:db8::11', 'udp', 53] }, { goto: { target: 'reject-chain' } }],
        ],
      },
    },
    { map: { family: 'inet', name: 'no-endpoint-services4', table: 'portico', handle: 3, map: 'verdict' } },
    {
      set: {
        family: 'inet',
        name: 'aff-X',
        table: 'portico',
        type: 'ipv4_addr',
        handle: 4,
        size: 65535,
        flags: ['timeout'],
        timeout: 10800,
      },
    },
    { chain: { family: 'inet', table: 'portico', name: 'vs-A', handle: 5 } },
    { chain: { family: 'inet', table: 'portico', name: 'empty', handle: 6 } },
    { rule: { family: 'inet', table: 'portico', chain: 'vs-A', handle: 7, expr: [] } },
    { rule: { family: 'inet', table: 'portico', chain: 'vs-A', handle: 8, comment: 'FP', expr: [] } },
    // Another table and another family: not ours.
    { table: { family: 'ip', name: 'portico', handle: 9 } },
    { chain: { family: 'ip', table: 'portico', name: 'alien', handle: 10 } },
    { chain: { family: 'inet', table: 'filter', name: 'alien2', handle: 11 } },
    { rule: { family: 'inet', table: 'filter', chain: 'alien2', handle: 12, expr: [] } },
  ],
};

describe('parseInventory', () => {
  const inv = parseInventory(listing, 'portico');

  it('finds the table, its chains with rule counts and last comments, and its sets and maps', () => {
    expect(inv.tableExists).toBe(true);
    expect(inv.chains).toEqual(
      new Map([
        ['vs-A', { rules: 2, lastComment: 'FP' }],
        ['empty', { rules: 0, lastComment: null }],
      ]),
    );
    expect(inv.sets).toEqual(
      new Map<string, 'set' | 'map'>([
        ['service-ips4', 'map'],
        ['no-endpoint-services6', 'map'],
        ['no-endpoint-services4', 'map'],
        ['aff-X', 'set'],
      ]),
    );
  });

  it('reads dispatch elements as `vip . proto . port` -> verdict, canonicalising addresses and protocols', () => {
    expect(inv.elements.get('service-ips4')).toEqual(
      new Map([
        ['192.0.2.10 . tcp . 80', 'goto vs-A'],
        ['192.0.2.11 . udp . 53', 'jump vs-B'],
        ['192.0.2.12 . sctp . 3868', 'goto vs-C'],
      ]),
    );
    expect(inv.elements.get('no-endpoint-services6')).toEqual(
      new Map([
        ['2001:db8::10 . tcp . 80', 'drop'],
        ['2001:db8::11 . udp . 53', 'goto reject-chain'],
      ]),
    );
    expect(inv.elements.get('no-endpoint-services4')).toEqual(new Map());
  });

  it('an unrelated or empty listing is an absent table', () => {
    expect(parseInventory({ nftables: [] }, 'portico').tableExists).toBe(false);
    expect(parseInventory(null, 'portico').chains.size).toBe(0);
    expect(parseInventory(listing, 'other').tableExists).toBe(false);
  });
});
