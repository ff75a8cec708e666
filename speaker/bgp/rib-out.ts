// Adj-RIB-Out (RFC 4271 3.2, 9.2) for one peer: given the routes we want the
// peer to have, it returns the fewest UPDATEs that get it there from what was
// already sent. Prefixes sharing attributes share an UPDATE; IPv4 uses the
// classic NLRI fields, IPv6 MP_REACH/MP_UNREACH (RFC 4760); the first sync
// ends with End-of-RIB per family (RFC 4724 2). Pure: no I/O, no clock.
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './codec/constants.ts';
import { familyOfPrefix } from './codec/family.ts';
import type { AddressFamily } from './codec/family.ts';
import { canonicalPrefix, formatIp, parseIp } from './codec/ip.ts';
import { prefixWireSize } from './codec/nlri.ts';
import { encodePathAttributes } from './codec/path-attributes.ts';
import type { CodecContext, LargeCommunity, PathAttributes } from './codec/path-attributes.ts';
import { endOfRib } from './codec/update.ts';
import type { UpdateMessage } from './codec/update.ts';

export interface OutboundRoute {
  /** CIDR; a bare address is a host route. */
  prefix: string;
  /** Same family as the prefix. */
  nextHop: string;
  /** Sent to iBGP peers only (RFC 4271 5.1.5); 100 when unset. */
  localPref?: number;
  med?: number;
  communities?: readonly number[];
  largeCommunities?: readonly LargeCommunity[];
}

export interface RibOutPeer {
  localAs: number;
  ibgp: boolean;
  fourOctetAs: boolean;
  /** Families negotiated with the peer; routes of other families are held back. */
  families: readonly AddressFamily[];
}

export interface RibOutSync {
  updates: UpdateMessage[];
  rejected: { prefix: string; reason: string }[];
}

/** RFC 4271 5.1.5 leaves the value to policy; 100 is the usual default. */
export const DEFAULT_LOCAL_PREF = 100;

interface Entry {
  prefix: string;
  family: AddressFamily;
  nextHop: string;
  /** Everything but the next hop and NLRI. */
  base: PathAttributes;
  /** Equal keys mean the same attributes on the wire. */
  key: string;
}

// Fixed parts of an UPDATE: header, withdrawn-length and attribute-length fields.
const UPDATE_OVERHEAD = HEADER_LENGTH + 2 + 2;
// MP_(UN)REACH attribute header with extended length, conservatively always 4 octets.
const MP_ATTR_HEADER = 4;

function sortedUnique<T>(items: readonly T[], key: (t: T) => string, cmp: (a: T, b: T) => number): T[] {
  const seen = new Map<string, T>();
  for (const i of items) if (!seen.has(key(i))) seen.set(key(i), i);
  return [...seen.values()].sort(cmp);
}

const cmpLarge = (a: LargeCommunity, b: LargeCommunity) =>
  a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2;

export class AdjRibOut {
  readonly #peer: RibOutPeer;
  readonly #ctx: CodecContext;
  #sent = new Map<string, Entry>();
  #synced = false;
  #hops = new Map<string, string>();

  constructor(peer: RibOutPeer) {
    this.#peer = peer;
    this.#ctx = { fourOctetAs: peer.fourOctetAs };
  }

  /** Prefixes the peer currently has from us. */
  get advertised(): ReadonlySet<string> {
    return new Set(this.#sent.keys());
  }

  /** The UPDATEs that move the peer from what it has to `desired`. */
  sync(desired: Iterable<OutboundRoute>): RibOutSync {
    const rejected: RibOutSync['rejected'] = [];
    const want = new Map<string, Entry>();
    for (const route of desired) {
      const entry = this.#entry(route);
      if (typeof entry === 'string') rejected.push({ prefix: route.prefix, reason: entry });
      else if (this.#peer.families.includes(entry.family)) want.set(entry.prefix, entry);
    }

    const withdraw = [...this.#sent.keys()].filter((p) => !want.has(p)).sort();
    const announce = [...want.values()].filter((e) => this.#sent.get(e.prefix)?.key !== e.key);

    const updates = [...this.#withdrawals(withdraw), ...this.#announcements(announce)];
    for (const p of withdraw) this.#sent.delete(p);
    for (const e of announce) this.#sent.set(e.prefix, e);
    if (!this.#synced) {
      this.#synced = true;
      for (const f of this.#peer.families) updates.push(endOfRib(f));
    }
    return { updates, rejected };
  }

  /** Everything advertised in `family` again, for a ROUTE-REFRESH request (RFC 2918 4). */
  refresh(family: AddressFamily): UpdateMessage[] {
    return this.#announcements([...this.#sent.values()].filter((e) => e.family === family));
  }

  #entry(route: OutboundRoute): Entry | string {
    const prefix = canonicalPrefix(route.prefix);
    if (!prefix) return 'not a prefix';
    const family = familyOfPrefix(prefix);
    const nextHop = this.#canonicalHop(route.nextHop);
    if (!nextHop || familyOfPrefix(nextHop) !== family)
      return `next hop ${route.nextHop} is not in ${family}`;
    const { ibgp, localAs } = this.#peer;
    const base: PathAttributes = {
      origin: 'igp',
      // RFC 4271 5.1.2: towards eBGP we prepend our AS; towards iBGP an originated route has an empty path.
      asPath: ibgp ? [] : [{ kind: 'sequence', asns: [localAs] }],
    };
    if (route.med !== undefined) base.med = route.med;
    if (ibgp) base.localPref = route.localPref ?? DEFAULT_LOCAL_PREF;
    if (route.communities?.length) {
      base.communities = sortedUnique(route.communities, String, (a, b) => a - b);
    }
    if (route.largeCommunities?.length) {
      base.largeCommunities = sortedUnique(
        route.largeCommunities,
        (c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`,
        cmpLarge,
      ).map((c) => ({ globalAdmin: c.globalAdmin, localData1: c.localData1, localData2: c.localData2 }));
    }
    return { prefix, family, nextHop, base, key: JSON.stringify([family, nextHop, base]) };
  }

  /** Thousands of routes share a handful of next hops: parse each once. */
  #canonicalHop(text: string): string | undefined {
    let hop = this.#hops.get(text);
    if (hop === undefined) {
      const ip = parseIp(text);
      hop = ip ? formatIp(ip.bytes) : '';
      this.#hops.set(text, hop);
    }
    return hop || undefined;
  }

  #withdrawals(prefixes: string[]): UpdateMessage[] {
    const out: UpdateMessage[] = [];
    const v4 = prefixes.filter((p) => familyOfPrefix(p) === 'ipv4-unicast');
    const v6 = prefixes.filter((p) => familyOfPrefix(p) === 'ipv6-unicast');
    for (const chunk of pack(v4, MAX_MESSAGE_LENGTH - UPDATE_OVERHEAD)) {
      out.push({ type: 'update', withdrawn: chunk, attributes: {}, nlri: [] });
    }
    // AFI (2) and SAFI (1) precede the withdrawn prefixes in MP_UNREACH_NLRI.
    for (const chunk of pack(v6, MAX_MESSAGE_LENGTH - UPDATE_OVERHEAD - MP_ATTR_HEADER - 3)) {
      out.push({
        type: 'update',
        withdrawn: [],
        attributes: { mpUnreach: { family: 'ipv6-unicast', withdrawn: chunk } },
        nlri: [],
      });
    }
    return out;
  }

  #announcements(entries: Entry[]): UpdateMessage[] {
    const groups = new Map<string, Entry[]>();
    for (const e of entries) {
      const g = groups.get(e.key);
      if (g) g.push(e);
      else groups.set(e.key, [e]);
    }
    const out: UpdateMessage[] = [];
    for (const key of [...groups.keys()].sort()) {
      const group = groups.get(key) ?? [];
      const first = group[0];
      if (!first) continue;
      const prefixes = group.map((e) => e.prefix).sort();
      if (first.family === 'ipv4-unicast') {
        const attributes: PathAttributes = { ...first.base, nextHop: first.nextHop };
        const room =
          MAX_MESSAGE_LENGTH - UPDATE_OVERHEAD - encodePathAttributes(attributes, this.#ctx).length;
        for (const chunk of pack(prefixes, room))
          out.push({ type: 'update', withdrawn: [], attributes, nlri: chunk });
      } else {
        // MP_REACH_NLRI: AFI, SAFI, next-hop length, a 16-octet next hop, reserved.
        const mpFixed = MP_ATTR_HEADER + 2 + 1 + 1 + 16 + 1;
        const room =
          MAX_MESSAGE_LENGTH - UPDATE_OVERHEAD - encodePathAttributes(first.base, this.#ctx).length - mpFixed;
        for (const chunk of pack(prefixes, room)) {
          const mpReach = { family: first.family, nextHops: [first.nextHop], nlri: chunk };
          out.push({ type: 'update', withdrawn: [], attributes: { ...first.base, mpReach }, nlri: [] });
        }
      }
    }
    return out;
  }
}

/** Splits prefixes into runs whose wire size fits in `room` octets. */
function pack(prefixes: string[], room: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const p of prefixes) {
    const size = prefixWireSize(p);
    if (used + size > room && current.length > 0) {
      out.push(current);
      current = [];
      used = 0;
    }
    current.push(p);
    used += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
