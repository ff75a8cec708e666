// Every malformed input yields the error the RFCs prescribe: a NOTIFICATION
// (RFC 4271 6) for session-level errors, or an RFC 7606 outcome for UPDATEs.
import { describe, expect, it } from '@jest/globals';
import { decodeMessage } from '../../../../speaker/bgp/codec/index.ts';
import type { DecodeContext } from '../../../../speaker/bgp/codec/index.ts';
import { hex, MANDATORY_ATTRS, MARKER, message, toHex, update } from '../helpers.ts';

function notification(bytes: Uint8Array, ctx?: DecodeContext) {
  const r = decodeMessage(bytes, ctx);
  if (r.ok) throw new Error('expected an error');
  return { code: r.error.code, subcode: r.error.subcode, data: toHex(r.error.data) };
}

function outcome(bytes: Uint8Array, ctx?: DecodeContext) {
  const r = decodeMessage(bytes, ctx);
  if (!r.ok) throw new Error(`expected a message, got ${r.error.reason}`);
  return {
    treatAsWithdraw: r.treatAsWithdraw,
    problems: r.problems.map((p) => `${p.action} ${p.code}/${p.subcode}`),
    message: r.message,
  };
}

const OPEN_OK = '04 fde9 005a 0a000001 00';

describe('message header errors (RFC 4271 6.1)', () => {
  it.each([
    ['a marker that is not all ones', hex(`${'ff'.repeat(15)}fe 0013 04`), { code: 1, subcode: 1, data: '' }],
    ['a length below 19', hex(`${MARKER} 0012 04`), { code: 1, subcode: 2, data: '0012' }],
    ['a length above 4096', hex(`${MARKER} 1001 04`), { code: 1, subcode: 2, data: '1001' }],
    ['an unknown type', message(6, ''), { code: 1, subcode: 3, data: '06' }],
    ['a KEEPALIVE with a body', message(4, '00'), { code: 1, subcode: 2, data: '0014' }],
    ['an OPEN below 29 octets', message(1, '04 fde9 005a 0a000001'), { code: 1, subcode: 2, data: '001c' }],
    ['an UPDATE below 23 octets', message(2, '0000 00'), { code: 1, subcode: 2, data: '0016' }],
    ['a NOTIFICATION below 21 octets', message(3, '06'), { code: 1, subcode: 2, data: '0014' }],
    [
      'a ROUTE-REFRESH that is not 23 octets',
      message(5, '0001 00 01 00'),
      { code: 1, subcode: 2, data: '0018' },
    ],
  ])('%s', (_what, bytes, expected) => {
    expect(notification(bytes)).toEqual(expected);
  });

  it('a frame shorter than its length field', () => {
    expect(notification(hex(`${MARKER} 0014 04`))).toEqual({ code: 1, subcode: 2, data: '0014' });
  });
});

describe('OPEN errors (RFC 4271 6.2, RFC 5492, RFC 7607)', () => {
  it.each([
    [
      'version 3: the data is the version we support',
      '03 fde9 005a 0a000001 00',
      { code: 2, subcode: 1, data: '0004' },
    ],
    ['peer AS 0', '04 0000 005a 0a000001 00', { code: 2, subcode: 2, data: '' }],
    [
      'a 4-octet AS capability of 0',
      '04 5ba0 005a 0a000001 08 02 06 41 04 00000000',
      { code: 2, subcode: 2, data: '' },
    ],
    ['hold time 1', '04 fde9 0001 0a000001 00', { code: 2, subcode: 6, data: '' }],
    ['hold time 2', '04 fde9 0002 0a000001 00', { code: 2, subcode: 6, data: '' }],
    ['BGP identifier 0', '04 fde9 005a 00000000 00', { code: 2, subcode: 3, data: '' }],
    [
      'an authentication parameter (type 1)',
      '04 fde9 005a 0a000001 03 01 01 00',
      { code: 2, subcode: 4, data: '' },
    ],
    [
      'parameters longer than the message',
      '04 fde9 005a 0a000001 05 02 02 0200',
      { code: 2, subcode: 0, data: '' },
    ],
    [
      'a capability overrunning its parameter',
      '04 fde9 005a 0a000001 04 02 02 0201',
      { code: 2, subcode: 0, data: '' },
    ],
    [
      'a multiprotocol capability of the wrong length',
      '04 fde9 005a 0a000001 05 02 03 0101 00',
      { code: 2, subcode: 0, data: '' },
    ],
    [
      'a graceful restart capability of the wrong length',
      '04 fde9 005a 0a000001 05 02 03 4001 00',
      { code: 2, subcode: 0, data: '' },
    ],
  ])('%s', (_what, body, expected) => {
    expect(notification(message(1, body))).toEqual(expected);
  });

  it('accepts hold time 0 and 3', () => {
    expect(decodeMessage(message(1, '04 fde9 0000 0a000001 00')).ok).toBe(true);
    expect(decodeMessage(message(1, '04 fde9 0003 0a000001 00')).ok).toBe(true);
    expect(decodeMessage(message(1, OPEN_OK)).ok).toBe(true);
  });
});

describe('UPDATE errors that reset the session (RFC 4271 6.3 as revised by RFC 7606)', () => {
  it.each([
    ['withdrawn length past the message', message(2, '0005 10 0a 0000'), { code: 3, subcode: 1, data: '' }],
    [
      'attribute length past the message',
      message(2, '0000 0009 40010100'),
      { code: 3, subcode: 1, data: '' },
    ],
    [
      'a withdrawn prefix longer than 32',
      update('21 0a000000 00', '', ''),
      { code: 3, subcode: 1, data: '' },
    ],
    [
      'an NLRI prefix longer than 32',
      update('', MANDATORY_ATTRS, '21 0a000000 00'),
      { code: 3, subcode: 10, data: '' },
    ],
    ['an NLRI prefix cut short', update('', MANDATORY_ATTRS, '18 0a00'), { code: 3, subcode: 10, data: '' }],
    [
      'an unrecognized well-known attribute: the data is the attribute',
      update('', `${MANDATORY_ATTRS} | 40 63 01 aa`, '18 0a0000'),
      { code: 3, subcode: 2, data: '406301aa' },
    ],
    [
      'MP_REACH_NLRI twice (RFC 7606 3.g)',
      update('', '80 0f 03 000201 | 80 0f 03 000201', ''),
      { code: 3, subcode: 1, data: '' },
    ],
    [
      'an MP_REACH_NLRI next hop of 5 octets (RFC 7606 7.11)',
      update('', '80 0e 0a 0002 01 05 0102030405 00', ''),
      { code: 3, subcode: 9, data: '800e0a000201050102030405' + '00' },
    ],
    [
      'an MP_REACH_NLRI cut short',
      update('', '80 0e 02 0002', ''),
      { code: 3, subcode: 9, data: '800e020002' },
    ],
    [
      'an MP_UNREACH_NLRI prefix longer than 128',
      update('', '80 0f 04 0002 01 81', ''),
      { code: 3, subcode: 9, data: '800f0400020181' },
    ],
    [
      'MP_REACH_NLRI with the wrong flags (RFC 7606 7.11)',
      update('', '40 0f 03 000201', ''),
      { code: 3, subcode: 4, data: '400f03000201' },
    ],
  ])('%s', (_what, bytes, expected) => {
    expect(notification(bytes)).toEqual(expected);
  });
});

describe('treat-as-withdraw (RFC 7606 2, 7)', () => {
  const nlri = '18 c00002';
  const cases: [string, string][] = [
    ['ORIGIN 3 (RFC 7606 7.1)', '40 01 01 03 | 40 02 06 02 01 0000fde9 | 40 03 04 c0000201'],
    ['ORIGIN of length 2', '40 01 02 0000 | 40 02 06 02 01 0000fde9 | 40 03 04 c0000201'],
    ['ORIGIN flagged optional (RFC 7606 3.c)', 'c0 01 01 00 | 40 02 06 02 01 0000fde9 | 40 03 04 c0000201'],
    ['an AS_PATH segment of length 0 (RFC 7606 7.2)', '40 01 01 00 | 40 02 02 02 00 | 40 03 04 c0000201'],
    ['an AS_PATH segment type 9', '40 01 01 00 | 40 02 06 09 01 0000fde9 | 40 03 04 c0000201'],
    ['an AS_PATH overrun', '40 01 01 00 | 40 02 06 02 02 0000fde9 | 40 03 04 c0000201'],
    ['an AS_PATH with one octet left over', '40 01 01 00 | 40 02 07 02 01 0000fde9 02 | 40 03 04 c0000201'],
    ['AS 0 in AS_PATH (RFC 7607)', '40 01 01 00 | 40 02 06 02 01 00000000 | 40 03 04 c0000201'],
    ['a NEXT_HOP of 3 octets (RFC 7606 7.3)', '40 01 01 00 | 40 02 06 02 01 0000fde9 | 40 03 03 c00002'],
    ['NEXT_HOP 0.0.0.0 (RFC 4271 6.3)', '40 01 01 00 | 40 02 06 02 01 0000fde9 | 40 03 04 00000000'],
    ['a multicast NEXT_HOP', '40 01 01 00 | 40 02 06 02 01 0000fde9 | 40 03 04 e0000001'],
    ['a MED of 2 octets (RFC 7606 7.4)', `${MANDATORY_ATTRS} | 80 04 02 0001`],
    ['COMMUNITIES of 3 octets (RFC 7606 7.8)', `${MANDATORY_ATTRS} | c0 08 03 010203`],
    ['empty COMMUNITIES', `${MANDATORY_ATTRS} | c0 08 00`],
    ['LARGE_COMMUNITY of 13 octets (RFC 8092 6)', `${MANDATORY_ATTRS} | c0 20 0d ${'00'.repeat(13)}`],
    ['ORIGIN missing (RFC 7606 3.d)', '40 02 06 02 01 0000fde9 | 40 03 04 c0000201'],
    ['AS_PATH missing', '40 01 01 00 | 40 03 04 c0000201'],
    ['NEXT_HOP missing with IPv4 NLRI', '40 01 01 00 | 40 02 06 02 01 0000fde9'],
    ['an attribute running past the field (RFC 7606 4)', `${MANDATORY_ATTRS} | c0 08 08 0000fde9`],
    ['a stub too short to be an attribute', `${MANDATORY_ATTRS} | c0 08`],
  ];
  it.each(cases)('%s', (_what, attrs) => {
    const r = outcome(update('', attrs, nlri));
    expect(r.treatAsWithdraw).toBe(true);
    expect(r.problems.some((p) => p.startsWith('treat-as-withdraw 3/'))).toBe(true);
    // The NLRI is still known, so it can be withdrawn.
    expect(r.message).toMatchObject({ nlri: ['192.0.2.0/24'] });
  });

  it('LOCAL_PREF missing from an iBGP peer', () => {
    expect(
      outcome(update('', MANDATORY_ATTRS, nlri), { fourOctetAs: true, peerType: 'ibgp' }).treatAsWithdraw,
    ).toBe(true);
  });

  it('a path not starting with the eBGP peer AS, when enforced (RFC 4271 6.3)', () => {
    const r = outcome(update('', MANDATORY_ATTRS, nlri), { fourOctetAs: true, firstAs: 65002 });
    expect(r.problems).toEqual(['treat-as-withdraw 3/11']);
    expect(
      outcome(update('', MANDATORY_ATTRS, nlri), { fourOctetAs: true, firstAs: 65001 }).problems,
    ).toEqual([]);
  });

  it('a broken attribute on an UPDATE without NLRI withdraws nothing but is reported', () => {
    const r = outcome(update('10 0a01', '40 01 01 07', ''));
    expect(r.treatAsWithdraw).toBe(true);
    expect(r.message).toMatchObject({ withdrawn: ['10.1.0.0/16'], nlri: [] });
  });
});

describe('attribute-discard (RFC 7606 2, 7; RFC 6793 6)', () => {
  it.each([
    ['ATOMIC_AGGREGATE of length 1 (RFC 7606 7.6)', '40 06 01 00', 'atomicAggregate'],
    ['AGGREGATOR of 5 octets (RFC 7606 7.7)', 'c0 07 05 0000fde9 01', 'aggregator'],
    ['AGGREGATOR with AS 0 (RFC 7607)', 'c0 07 08 00000000 c0000201', 'aggregator'],
    ['AGGREGATOR flagged well-known', '40 07 08 0000fde9 c0000201', 'aggregator'],
  ])('%s', (_what, attr, key) => {
    const r = outcome(update('', `${MANDATORY_ATTRS} | ${attr}`, '18 c00002'));
    expect(r.treatAsWithdraw).toBe(false);
    expect(r.problems[0]).toMatch(/^attribute-discard/);
    expect(r.message.type === 'update' && key in r.message.attributes).toBe(false);
  });

  it('keeps the first of a repeated attribute (RFC 7606 3.g)', () => {
    const r = outcome(update('', `${MANDATORY_ATTRS} | c0 08 04 00000001 | c0 08 04 00000002`, '18 c00002'));
    expect(r.problems).toEqual(['attribute-discard 3/1']);
    expect(r.message).toMatchObject({ attributes: { communities: [1] } });
  });

  it('drops LOCAL_PREF from an eBGP peer (RFC 7606 7.5)', () => {
    const r = outcome(update('', `${MANDATORY_ATTRS} | 40 05 04 00000064`, '18 c00002'), {
      fourOctetAs: true,
      peerType: 'ebgp',
    });
    expect(r.treatAsWithdraw).toBe(false);
    expect(r.message).not.toHaveProperty('attributes.localPref');
  });

  it('drops a malformed AS4_PATH from a 2-octet peer and keeps AS_PATH', () => {
    const r = outcome(
      update('', '40 01 01 00 | 40 02 04 02 01 fde9 | 40 03 04 c0000201 | c0 11 02 02 00', '18 c00002'),
      { fourOctetAs: false },
    );
    expect(r.problems).toEqual(['attribute-discard 3/11']);
    expect(r.message).toMatchObject({ attributes: { asPath: [{ kind: 'sequence', asns: [65001] }] } });
  });

  it('ignores duplicate large communities (RFC 8092 5)', () => {
    const one = '0000fde9 00000001 00000002';
    const r = outcome(update('', `${MANDATORY_ATTRS} | c0 20 18 ${one} ${one}`, '18 c00002'));
    expect(r.message).toMatchObject({
      attributes: { largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }] },
    });
  });
});

describe('unrecognized optional attributes (RFC 4271 5)', () => {
  it('are kept as received, with the extended-length bit cleared', () => {
    const r = outcome(update('', `${MANDATORY_ATTRS} | d0 63 0002 abcd`, '18 c00002'));
    expect(r.problems).toEqual([]);
    expect(r.message).toMatchObject({
      attributes: { unknown: [{ flags: 0xc0, typeCode: 0x63, value: hex('abcd') }] },
    });
  });

  it('skips an MP_REACH_NLRI for a family we do not carry', () => {
    const r = outcome(update('', '80 0e 09 0001 80 04 c0000201 00 00', ''));
    expect(r.message).toMatchObject({ attributes: {} });
  });
});
