import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { collisionSurvivor } from '../../../speaker/bgp/collision.ts';
import { numberToIpv4 } from '../../../speaker/bgp/codec/index.ts';

describe('connection collision resolution (RFC 4271 6.8)', () => {
  it('keeps the connection opened by the speaker with the higher BGP identifier', () => {
    expect(collisionSurvivor({ bgpId: '10.0.0.2', asn: 1 }, { bgpId: '10.0.0.1', asn: 2 })).toBe('outgoing');
    expect(collisionSurvivor({ bgpId: '10.0.0.1', asn: 1 }, { bgpId: '10.0.0.2', asn: 2 })).toBe('incoming');
    // Compared as unsigned numbers, not as text.
    expect(collisionSurvivor({ bgpId: '9.0.0.0', asn: 1 }, { bgpId: '10.0.0.0', asn: 2 })).toBe('incoming');
    expect(collisionSurvivor({ bgpId: '200.0.0.0', asn: 1 }, { bgpId: '10.0.0.0', asn: 2 })).toBe('outgoing');
  });

  it('falls back to the larger AS when identifiers are equal (RFC 6286 2.3)', () => {
    expect(collisionSurvivor({ bgpId: '10.0.0.1', asn: 65002 }, { bgpId: '10.0.0.1', asn: 65001 })).toBe(
      'outgoing',
    );
    expect(collisionSurvivor({ bgpId: '10.0.0.1', asn: 65001 }, { bgpId: '10.0.0.1', asn: 65002 })).toBe(
      'incoming',
    );
  });

  it('property: both speakers, each deciding alone, keep the same TCP connection', () => {
    const side = fc.record({
      bgpId: fc.integer({ min: 1, max: 0xffffffff }).map(numberToIpv4),
      asn: fc.integer({ min: 1, max: 0xffffffff }),
    });
    fc.assert(
      fc.property(side, side, (a, b) => {
        fc.pre(a.bgpId !== b.bgpId || a.asn !== b.asn);
        // A's outgoing connection is B's incoming one: they agree when their answers differ.
        expect(collisionSurvivor(a, b)).not.toBe(collisionSurvivor(b, a));
      }),
    );
  });
});
