// fast-check generators for well-formed BGP messages: everything a correct
// speaker could send, within the 4096-octet limit.
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import { formatIpv4, formatPrefix, prefixFromWire } from '../../../speaker/bgp/codec/ip.ts';
import type {
  AsPathSegment,
  BgpMessage,
  Capability,
  LargeCommunity,
  PathAttributes,
  UpdateMessage,
} from '../../../speaker/bgp/codec/index.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const asn = fc.integer({ min: 1, max: 0xffffffff });
const asn2 = fc.integer({ min: 1, max: 0xffff });

export const ipv4Prefix: Arbitrary<string> = fc
  .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }))
  .map(([b, len]) => formatPrefix(prefixFromWire(4, b, len)));

export const ipv6Prefix: Arbitrary<string> = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }))
  .map(([b, len]) => formatPrefix(prefixFromWire(6, b, len)));

const ipv6Host = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => formatPrefix(prefixFromWire(6, b, 128)).split('/')[0] as string);

/** A unicast IPv4 host address: what NEXT_HOP may carry (RFC 4271 6.3). */
export const unicastIpv4: Arbitrary<string> = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.uint8Array({ minLength: 3, maxLength: 3 }))
  .map(([a, rest]) => formatIpv4(Uint8Array.of(a, ...rest)));

export function asPath(asnArb: Arbitrary<number> = asn, withConfed = true): Arbitrary<AsPathSegment[]> {
  const kinds: AsPathSegment['kind'][] = withConfed
    ? ['sequence', 'set', 'confed-sequence', 'confed-set']
    : ['sequence', 'set'];
  return fc.array(
    fc.record({ kind: fc.constantFrom(...kinds), asns: fc.array(asnArb, { minLength: 1, maxLength: 8 }) }),
    { maxLength: 4 },
  );
}

const largeCommunity: Arbitrary<LargeCommunity> = fc.record({
  globalAdmin: u32,
  localData1: u32,
  localData2: u32,
});

export function pathAttributes(
  o: { fourOctetAs: boolean } = { fourOctetAs: true },
): Arbitrary<PathAttributes> {
  const path = o.fourOctetAs ? asPath() : asPath(asn, false);
  return fc.record(
    {
      origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
      asPath: path,
      nextHop: unicastIpv4,
      med: u32,
      localPref: u32,
      atomicAggregate: fc.constant(true),
      aggregator: fc.record({ asn, address: unicastIpv4 }),
      communities: fc.array(u32, { minLength: 1, maxLength: 10 }),
      largeCommunities: fc.uniqueArray(largeCommunity, {
        minLength: 1,
        maxLength: 5,
        selector: (c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`,
      }),
      mpReach: fc.oneof(
        fc.record({
          family: fc.constant('ipv6-unicast' as const),
          nextHops: fc.oneof(fc.tuple(ipv6Host), fc.tuple(ipv6Host, ipv6Host)),
          nlri: fc.array(ipv6Prefix, { maxLength: 10 }),
        }),
        fc.record({
          family: fc.constant('ipv4-unicast' as const),
          nextHops: fc.tuple(unicastIpv4),
          nlri: fc.array(ipv4Prefix, { maxLength: 10 }),
        }),
      ),
      // Withdrawals are filled in by updateMessage, in the attribute's own family.
      mpUnreach: fc.record({
        family: fc.constantFrom('ipv4-unicast' as const, 'ipv6-unicast' as const),
        withdrawn: fc.constant([] as string[]),
      }),
      unknown: fc
        .uniqueArray(
          fc.record({
            // Optional, maybe transitive, maybe partial; never a type we interpret.
            flags: fc.constantFrom(0x80, 0xc0, 0xe0),
            typeCode: fc.integer({ min: 33, max: 255 }),
            value: fc.uint8Array({ maxLength: 300 }),
          }),
          { maxLength: 2, selector: (a) => a.typeCode },
        )
        .filter((a) => a.length > 0)
        .map((a) => a.sort((x, y) => x.typeCode - y.typeCode)),
    },
    { requiredKeys: [] },
  );
}

export function updateMessage(o: { fourOctetAs: boolean } = { fourOctetAs: true }): Arbitrary<UpdateMessage> {
  return fc
    .record({
      withdrawn: fc.array(ipv4Prefix, { maxLength: 20 }),
      attributes: pathAttributes(o),
      nlri: fc.array(ipv4Prefix, { maxLength: 20 }),
      v6Withdrawn: fc.array(ipv6Prefix, { maxLength: 10 }),
    })
    .map(({ withdrawn, attributes, nlri, v6Withdrawn }) => {
      if (attributes.mpUnreach?.family === 'ipv6-unicast') attributes.mpUnreach.withdrawn = v6Withdrawn;
      return { type: 'update' as const, withdrawn, attributes, nlri };
    });
}

const capability: Arbitrary<Capability> = fc.oneof(
  fc.record({
    kind: fc.constant('multiprotocol' as const),
    afi: fc.integer({ min: 0, max: 0xffff }),
    safi: fc.integer({ min: 0, max: 255 }),
  }),
  fc.constant({ kind: 'route-refresh' as const }),
  fc.record({ kind: fc.constant('four-octet-as' as const), asn }),
  fc.record({
    kind: fc.constant('graceful-restart' as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTimeSec: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(
      fc.record({
        afi: fc.integer({ min: 0, max: 0xffff }),
        safi: fc.integer({ min: 0, max: 255 }),
        forwardingPreserved: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
  }),
  fc.record({
    kind: fc.constant('unknown' as const),
    code: fc.integer({ min: 0, max: 255 }).filter((c) => ![1, 2, 64, 65].includes(c)),
    value: fc.uint8Array({ maxLength: 20 }),
  }),
);

export const openMessage = fc.record({
  type: fc.constant('open' as const),
  myAs: asn2,
  holdTimeSec: fc.integer({ min: 0, max: 0xffff }).filter((h) => h !== 1 && h !== 2),
  bgpId: unicastIpv4,
  capabilities: fc.array(capability, { maxLength: 8 }),
});

export const bgpMessage: Arbitrary<BgpMessage> = fc.oneof(
  openMessage,
  updateMessage(),
  fc.record({
    type: fc.constant('notification' as const),
    code: fc.integer({ min: 0, max: 255 }),
    subcode: fc.integer({ min: 0, max: 255 }),
    data: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.constant({ type: 'keepalive' as const }),
  fc.record({
    type: fc.constant('route-refresh' as const),
    afi: fc.integer({ min: 0, max: 0xffff }),
    safi: fc.integer({ min: 0, max: 255 }),
    subtype: fc.integer({ min: 0, max: 255 }),
  }),
);

export { asn, asn2, u32 };
