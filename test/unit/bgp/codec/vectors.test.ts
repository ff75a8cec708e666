// Hand-built messages checked octet by octet against the RFC layouts.
import { describe, expect, it } from '@jest/globals';
import {
  decodeMessage,
  encodeMessage,
  endOfRib,
  endOfRibFamily,
} from '../../../../speaker/bgp/codec/index.ts';
import type { BgpMessage, DecodeResult, UpdateMessage } from '../../../../speaker/bgp/codec/index.ts';
import { hex, MARKER, message, toHex, update } from '../helpers.ts';

function ok(r: DecodeResult): BgpMessage {
  if (!r.ok) throw new Error(`expected a message, got ${r.error.reason}`);
  return r.message;
}

describe('KEEPALIVE (RFC 4271 4.4)', () => {
  it('is a bare 19-octet header', () => {
    const bytes = hex(`${MARKER} 0013 04`);
    expect(encodeMessage({ type: 'keepalive' })).toEqual(bytes);
    expect(ok(decodeMessage(bytes))).toEqual({ type: 'keepalive' });
  });
});

describe('OPEN (RFC 4271 4.2, RFC 5492)', () => {
  // Version 4, AS 65001, hold 180, id 192.0.2.1, one Capabilities parameter holding:
  // MP IPv4/unicast, MP IPv6/unicast, route refresh, GR (R bit, 120 s, IPv4 with F),
  // 4-octet AS 65001.
  const bytes = message(
    1,
    `04 fde9 00b4 c0000201 1e
     02 1c
       01 04 0001 00 01
       01 04 0002 00 01
       02 00
       40 06 8078 0001 01 80
       41 04 0000fde9`,
  );
  const open: BgpMessage = {
    type: 'open',
    myAs: 65001,
    holdTimeSec: 180,
    bgpId: '192.0.2.1',
    capabilities: [
      { kind: 'multiprotocol', afi: 1, safi: 1 },
      { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'route-refresh' },
      {
        kind: 'graceful-restart',
        restarting: true,
        notification: false,
        restartTimeSec: 120,
        families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
      },
      { kind: 'four-octet-as', asn: 65001 },
    ],
  };

  it('decodes every capability', () => {
    expect(ok(decodeMessage(bytes))).toEqual(open);
  });

  it('encodes to the same octets', () => {
    expect(toHex(encodeMessage(open))).toBe(toHex(bytes));
  });

  it('puts AS_TRANS in My AS for a 4-octet AS (RFC 6793 4.1)', () => {
    const m = encodeMessage({
      ...open,
      myAs: 23456,
      capabilities: [{ kind: 'four-octet-as', asn: 4200000000 }],
    });
    expect(toHex(m.subarray(19, 22))).toBe('045ba0');
    expect(toHex(m.subarray(29))).toBe('0206' + '4104fa56ea00');
  });

  it('reads capabilities split over several parameters, and unknown ones', () => {
    const m = ok(decodeMessage(message(1, '04 fde9 005a 0a000001 0b 02 02 0200 02 05 46 03 010203')));
    expect(m).toMatchObject({
      capabilities: [{ kind: 'route-refresh' }, { kind: 'unknown', code: 0x46, value: hex('010203') }],
    });
  });

  it('reads the extended optional parameters length (RFC 9072)', () => {
    // Non-ext length 255, type 255, then a 2-octet length; each parameter has a 2-octet length.
    const m = ok(decodeMessage(message(1, '04 fde9 005a 0a000001 ff ff 0005 02 0002 0200')));
    expect(m).toMatchObject({ capabilities: [{ kind: 'route-refresh' }] });
  });
});

describe('UPDATE (RFC 4271 4.3)', () => {
  // Withdraw 10.1.0.0/16; announce 198.51.100.0/24 and 192.0.2.1/32 with
  // ORIGIN IGP, AS_PATH SEQ [65001 65002], NEXT_HOP 192.0.2.1, MED 100,
  // COMMUNITIES 65001:100 + NO_EXPORT, LARGE_COMMUNITY 65001:1:2.
  const bytes = update(
    '10 0a01',
    `40 01 01 00
     40 02 0a 02 02 0000fde9 0000fdea
     40 03 04 c0000201
     80 04 04 00000064
     c0 08 08 fde90064 ffffff01
     c0 20 0c 0000fde9 00000001 00000002`,
    '18 c63364 | 20 c0000201',
  );
  const msg: UpdateMessage = {
    type: 'update',
    withdrawn: ['10.1.0.0/16'],
    attributes: {
      origin: 'igp',
      asPath: [{ kind: 'sequence', asns: [65001, 65002] }],
      nextHop: '192.0.2.1',
      med: 100,
      communities: [0xfde90064, 0xffffff01],
      largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }],
    },
    nlri: ['198.51.100.0/24', '192.0.2.1/32'],
  };

  it('decodes withdrawn routes, attributes and NLRI', () => {
    const r = decodeMessage(bytes);
    expect(r).toMatchObject({ ok: true, treatAsWithdraw: false, problems: [] });
    expect(ok(r)).toEqual(msg);
  });

  it('encodes to the same octets', () => {
    expect(toHex(encodeMessage(msg))).toBe(toHex(bytes));
  });

  it('carries IPv6 in MP_REACH_NLRI with global and link-local next hops (RFC 4760 3, RFC 2545)', () => {
    const v6 = update(
      '',
      `80 0e 3d 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00
         30 20010db80001 | 80 20010db8000000000000000000000010
       40 01 01 00 | 40 02 06 02 01 0000fde9`,
      '',
    );
    expect(ok(decodeMessage(v6))).toEqual({
      type: 'update',
      withdrawn: [],
      attributes: {
        mpReach: {
          family: 'ipv6-unicast',
          nextHops: ['2001:db8::1', 'fe80::1'],
          nlri: ['2001:db8:1::/48', '2001:db8::10/128'],
        },
        origin: 'igp',
        asPath: [{ kind: 'sequence', asns: [65001] }],
      },
      nlri: [],
    });
    expect(toHex(encodeMessage(ok(decodeMessage(v6))))).toBe(toHex(v6));
  });

  it('withdraws IPv6 in MP_UNREACH_NLRI (RFC 4760 4)', () => {
    const v6 = update('', '80 0f 0a 0002 01 | 30 20010db80001', '');
    expect(ok(decodeMessage(v6))).toEqual({
      type: 'update',
      withdrawn: [],
      attributes: { mpUnreach: { family: 'ipv6-unicast', withdrawn: ['2001:db8:1::/48'] } },
      nlri: [],
    });
  });

  it('ignores bits past the prefix length (RFC 4271 4.3)', () => {
    const m = ok(decodeMessage(update('', '', '') /* empty */));
    expect(m).toEqual(endOfRib('ipv4-unicast'));
    expect(ok(decodeMessage(update('09 ffff', '', '')))).toMatchObject({ withdrawn: ['255.128.0.0/9'] });
  });

  it('uses the extended length flag for attributes over 255 octets', () => {
    const communities = Array.from({ length: 70 }, (_, i) => i + 1);
    const bytes2 = encodeMessage({ ...msg, attributes: { ...msg.attributes, communities } });
    const r = decodeMessage(bytes2);
    expect(ok(r)).toMatchObject({ attributes: { communities } });
    // flags d0 = optional, transitive, extended length; type 8; length 0x0118.
    expect(toHex(bytes2)).toContain('d0080118');
  });
});

describe('End-of-RIB (RFC 4724 2)', () => {
  it('is an empty UPDATE for IPv4 and an empty MP_UNREACH_NLRI for IPv6', () => {
    expect(toHex(encodeMessage(endOfRib('ipv4-unicast')))).toBe(`${MARKER}001702` + '0000' + '0000');
    expect(toHex(encodeMessage(endOfRib('ipv6-unicast')))).toBe(
      `${MARKER}001d02` + '0000' + '0006' + '800f03000201',
    );
    for (const f of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      const m = ok(decodeMessage(encodeMessage(endOfRib(f))));
      expect(m.type === 'update' && endOfRibFamily(m)).toBe(f);
    }
  });

  it('is not an UPDATE carrying anything', () => {
    expect(
      endOfRibFamily({ type: 'update', withdrawn: ['10.0.0.0/8'], attributes: {}, nlri: [] }),
    ).toBeUndefined();
    expect(
      endOfRibFamily({ type: 'update', withdrawn: [], attributes: { origin: 'igp' }, nlri: [] }),
    ).toBeUndefined();
  });
});

describe('NOTIFICATION (RFC 4271 4.5) and ROUTE-REFRESH (RFC 2918 3)', () => {
  it('round-trips a NOTIFICATION with data', () => {
    const bytes = message(3, '02 01 0004');
    const m = ok(decodeMessage(bytes));
    expect(m).toEqual({ type: 'notification', code: 2, subcode: 1, data: hex('0004') });
    expect(encodeMessage(m)).toEqual(bytes);
  });

  it('round-trips a ROUTE-REFRESH for IPv6 unicast', () => {
    const bytes = message(5, '0002 00 01');
    const m = ok(decodeMessage(bytes));
    expect(m).toEqual({ type: 'route-refresh', afi: 2, safi: 1, subtype: 0 });
    expect(encodeMessage(m)).toEqual(bytes);
  });
});

describe('AS4 (RFC 6793) towards a 2-octet peer', () => {
  const two = { fourOctetAs: false };
  const path = [{ kind: 'sequence' as const, asns: [65001, 4200000001, 65003] }];
  const m: UpdateMessage = {
    type: 'update',
    withdrawn: [],
    attributes: {
      origin: 'igp',
      asPath: path,
      nextHop: '192.0.2.1',
      aggregator: { asn: 4200000001, address: '192.0.2.9' },
    },
    nlri: ['192.0.2.0/24'],
  };

  it('sends AS_TRANS in AS_PATH and AGGREGATOR, and the real values in AS4_PATH and AS4_AGGREGATOR', () => {
    const bytes = toHex(encodeMessage(m, two));
    expect(bytes).toContain('400208' + '0203' + 'fde9' + '5ba0' + 'fdeb'); // AS_PATH, 2-octet
    expect(bytes).toContain('c00706' + '5ba0' + 'c0000209'); // AGGREGATOR with AS_TRANS
    expect(bytes).toContain('c0110e' + '0203' + '0000fde9' + 'fa56ea01' + '0000fdeb'); // AS4_PATH
    expect(bytes).toContain('c01208' + 'fa56ea01' + 'c0000209'); // AS4_AGGREGATOR
  });

  it('rebuilds the 4-octet path on receipt', () => {
    expect(ok(decodeMessage(encodeMessage(m, two), two))).toEqual(m);
  });

  it('prepends ASes an old speaker added in front of AS4_PATH (RFC 6793 4.2.3)', () => {
    const bytes = update(
      '',
      `40 01 01 00 | 40 02 0a 02 04 fde8 fde9 5ba0 fdeb | 40 03 04 c0000201
       c0 11 0a 02 02 fa56ea01 0000fdeb`,
      '18 c00002',
    );
    expect(ok(decodeMessage(bytes, two))).toMatchObject({
      attributes: { asPath: [{ kind: 'sequence', asns: [65000, 65001, 4200000001, 65003] }] },
    });
  });

  it('discards AS4_PATH between 4-octet speakers (RFC 6793 4.1)', () => {
    const bytes = update(
      '',
      `${'40 01 01 00 | 40 02 06 02 01 0000fde9 | 40 03 04 c0000201'} | c0 11 06 02 01 fa56ea01`,
      '18 c00002',
    );
    const r = decodeMessage(bytes);
    expect(r).toMatchObject({
      ok: true,
      treatAsWithdraw: false,
      problems: [{ action: 'attribute-discard', typeCode: 17 }],
    });
    expect(ok(r)).toMatchObject({ attributes: { asPath: [{ kind: 'sequence', asns: [65001] }] } });
  });
});
