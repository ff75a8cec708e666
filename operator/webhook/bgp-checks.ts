// The cross-object checks of the BGP configuration, pure: what the CRD schema
// cannot see because it needs other objects. As MetalLB's webhook, they judge
// the whole configuration of the namespace (advertisements, Community aliases
// and pools together), so the same rules catch a bad BGPAdvertisement and a
// Community or IPAddressPool change that would break one already stored.
import { parseAddressEntry } from '../../crds/net.ts';
import type { LabelSelector } from '../../crds/common.ts';
import type { CommunitySpec } from '../../crds/community.ts';
import { matchesLabelSelector } from '../allocator/selector.ts';
import { formatConfigError, resolveCommunities } from '../../speaker/bgp/config.ts';
import type { ConfigError } from '../../speaker/bgp/config.ts';

export type { ConfigError } from '../../speaker/bgp/config.ts';
export { formatConfigError };

/** The fields of BGPAdvertisement.spec these checks read (schema defaults may be missing). */
export interface AdvertisementSpecLike {
  aggregationLength?: number;
  aggregationLengthV6?: number;
  localPref?: number;
  communities?: string[];
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  peers?: string[];
}

export interface PoolSpecLike {
  addresses?: string[];
  usage?: string;
}

export interface BgpObject<S> {
  name: string;
  labels?: Record<string, string>;
  spec: S;
}

/** Everything of one namespace the checks look at. */
export interface BgpConfigState {
  advertisements: readonly BgpObject<AdvertisementSpecLike>[];
  communities: readonly BgpObject<CommunitySpec>[];
  pools: readonly BgpObject<PoolSpecLike>[];
}

const byName = <T extends { name: string }>(xs: readonly T[]): T[] =>
  [...xs].sort((a, b) => a.name.localeCompare(b.name));

/**
 * The pools an advertisement announces. As MetalLB: the named pools and those
 * its selectors match; when it names and selects none, every pool. ClusterIP
 * pools hold cluster IPs, which are never announced, so they are left out.
 */
export function selectedPools(
  adv: AdvertisementSpecLike,
  pools: readonly BgpObject<PoolSpecLike>[],
): BgpObject<PoolSpecLike>[] {
  const announced = pools.filter((p) => (p.spec.usage ?? 'LoadBalancer') === 'LoadBalancer');
  const names = adv.ipAddressPools ?? [];
  const selectors = adv.ipAddressPoolSelectors ?? [];
  if (names.length === 0 && selectors.length === 0) return announced;
  return announced.filter(
    (p) => names.includes(p.name) || selectors.some((s) => matchesLabelSelector(s, p.labels)),
  );
}

/** Prefix length of the smallest CIDR holding the inclusive range start..end. */
export function coveringPrefixLength(start: bigint, end: bigint, bits: number): number {
  let diff = start ^ end;
  let length = bits;
  while (diff > 0n) {
    diff >>= 1n;
    length--;
  }
  return length;
}

function communityErrors(state: BgpConfigState): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const adv of byName(state.advertisements)) {
    const values = adv.spec.communities ?? [];
    if (values.length === 0) continue;
    errors.push(
      ...resolveCommunities(values, state.communities, {
        kind: 'BGPAdvertisement',
        name: adv.name,
        field: 'spec.communities',
      }).errors,
    );
  }
  // Aliases are looked up across every Community object: one name, one value.
  const first = new Map<string, string>();
  for (const c of byName(state.communities)) {
    (c.spec.communities ?? []).forEach((alias, i) => {
      const owner = first.get(alias.name);
      if (owner === undefined) first.set(alias.name, c.name);
      else if (owner !== c.name) {
        errors.push({
          kind: 'Community',
          name: c.name,
          field: `spec.communities[${i}].name`,
          message: `alias "${alias.name}" is already defined in Community "${owner}"`,
        });
      }
    });
  }
  return errors;
}

function aggregationErrors(state: BgpConfigState): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const adv of byName(state.advertisements)) {
    const lengths = { 4: adv.spec.aggregationLength ?? 32, 6: adv.spec.aggregationLengthV6 ?? 128 };
    const field = { 4: 'spec.aggregationLength', 6: 'spec.aggregationLengthV6' };
    const reported = new Set<4 | 6>();
    for (const pool of byName(selectedPools(adv.spec, state.pools))) {
      (pool.spec.addresses ?? []).forEach((entry, i) => {
        const parsed = parseAddressEntry(entry);
        if (!parsed.ok) return; // the pool's own webhook and status report it
        const { family, start, end } = parsed.value;
        if (reported.has(family)) return;
        const prefix = parsed.value.prefixLength ?? coveringPrefixLength(start, end, family === 4 ? 32 : 128);
        if (lengths[family] >= prefix) return;
        reported.add(family);
        errors.push({
          kind: 'BGPAdvertisement',
          name: adv.name,
          field: field[family],
          message:
            `${lengths[family]} is shorter than the /${prefix} of IPAddressPool "${pool.name}" ` +
            `(spec.addresses[${i}] ${JSON.stringify(entry)}); the aggregate would announce addresses outside the pool`,
        });
      });
    }
  }
  return errors;
}

const peersOverlap = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  !a || a.length === 0 || !b || b.length === 0 || a.some((p) => b.includes(p));

function localPrefErrors(state: BgpConfigState): ConfigError[] {
  const errors: ConfigError[] = [];
  const ads = byName(state.advertisements).filter((a) => a.spec.localPref !== undefined);
  for (const [j, adv] of ads.entries()) {
    const mine = new Set(selectedPools(adv.spec, state.pools).map((p) => p.name));
    // Each conflict is reported once, on the later of the two names.
    for (const other of ads.slice(0, j)) {
      if (other.spec.localPref === adv.spec.localPref) continue;
      if (!peersOverlap(adv.spec.peers, other.spec.peers)) continue;
      const shared = selectedPools(other.spec, state.pools).find((p) => mine.has(p.name));
      if (!shared) continue;
      errors.push({
        kind: 'BGPAdvertisement',
        name: adv.name,
        field: 'spec.localPref',
        message:
          `${adv.spec.localPref} conflicts with localPref ${other.spec.localPref} of BGPAdvertisement ` +
          `"${other.name}", which announces IPAddressPool "${shared.name}" to the same peers`,
      });
    }
  }
  return errors;
}

/** Every cross-object error of the namespace's BGP configuration. */
export function checkBgpConfig(state: BgpConfigState): ConfigError[] {
  return [...communityErrors(state), ...aggregationErrors(state), ...localPrefErrors(state)];
}

export type ChangedKind = 'BGPAdvertisement' | 'Community' | 'IPAddressPool';

/**
 * The errors a change introduces: those of the configuration after it that
 * the configuration before it did not have. An object already stored with an
 * error (written while the webhook was down) does not block unrelated changes.
 */
export function errorsIntroduced(before: BgpConfigState, after: BgpConfigState): ConfigError[] {
  const known = new Set(checkBgpConfig(before).map(formatConfigError));
  return checkBgpConfig(after).filter((e) => !known.has(formatConfigError(e)));
}

/** `state` with `object` of `kind` in place of its stored version (added when new). */
export function withObject(
  state: BgpConfigState,
  kind: ChangedKind,
  object: BgpObject<unknown>,
): BgpConfigState {
  const replace = <S>(xs: readonly BgpObject<S>[]) => [
    ...xs.filter((x) => x.name !== object.name),
    object as BgpObject<S>,
  ];
  if (kind === 'BGPAdvertisement') return { ...state, advertisements: replace(state.advertisements) };
  if (kind === 'Community') return { ...state, communities: replace(state.communities) };
  return { ...state, pools: replace(state.pools) };
}
