import { describe, expect, it } from '@jest/globals';
import type { AdmissionRequest, AdmissionResult } from '../../../operator/webhook/admission.ts';
import { checkBgpConfig, coveringPrefixLength, selectedPools } from '../../../operator/webhook/bgp-checks.ts';
import type {
  AdvertisementSpecLike,
  BgpConfigState,
  BgpObject,
  PoolSpecLike,
} from '../../../operator/webhook/bgp-checks.ts';
import {
  bgpValidationHandler,
  bgpWebhookDefinition,
  checkBgpChange,
  withBgpPoolChecks,
} from '../../../operator/webhook/validate-bgp.ts';
import { allow, deny } from '../../../operator/webhook/admission.ts';

const NS = 'portico-system';

const adv = (name: string, spec: AdvertisementSpecLike): BgpObject<AdvertisementSpecLike> => ({ name, spec });
const pool = (
  name: string,
  addresses: string[],
  labels?: Record<string, string>,
): BgpObject<PoolSpecLike> => ({
  name,
  spec: { addresses },
  ...(labels ? { labels } : {}),
});
const community = (name: string, aliases: Record<string, string>) => ({
  name,
  spec: { communities: Object.entries(aliases).map(([n, value]) => ({ name: n, value })) },
});
const state = (s: Partial<BgpConfigState>): BgpConfigState => ({
  advertisements: [],
  communities: [],
  pools: [],
  ...s,
});
const messageOf = (r: AdmissionResult) => (r.allowed ? '' : r.status.message);

describe('coveringPrefixLength', () => {
  it('is the length of the smallest CIDR holding both ends', () => {
    expect(coveringPrefixLength(0x0a000001n, 0x0a000005n, 32)).toBe(29);
    expect(coveringPrefixLength(0x0a000007n, 0x0a000008n, 32)).toBe(28);
    expect(coveringPrefixLength(5n, 5n, 128)).toBe(128);
  });
});

describe('selectedPools', () => {
  const pools = [pool('a', ['10.0.0.0/24'], { tier: 'gold' }), pool('b', ['10.1.0.0/24'])];
  it('is every LoadBalancer pool when nothing is named or selected', () => {
    const cluster = { name: 'c', spec: { addresses: ['10.96.0.0/24'], usage: 'ClusterIP' } };
    expect(selectedPools({}, [...pools, cluster]).map((p) => p.name)).toEqual(['a', 'b']);
  });
  it('is the named pools and those a selector matches', () => {
    expect(selectedPools({ ipAddressPools: ['b'] }, pools).map((p) => p.name)).toEqual(['b']);
    const bySelector = { ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }] };
    expect(selectedPools(bySelector, pools).map((p) => p.name)).toEqual(['a']);
  });
});

describe('checkBgpConfig', () => {
  it('accepts literals, large communities and defined aliases', () => {
    const s = state({
      advertisements: [adv('a', { communities: ['65000:1', 'large:1:2:3', 'gold'] })],
      communities: [community('c', { gold: '65000:100' })],
    });
    expect(checkBgpConfig(s)).toEqual([]);
  });

  it('names the advertisement and the entry of an unknown alias', () => {
    const s = state({ advertisements: [adv('a', { communities: ['65000:1', 'silver'] })] });
    expect(checkBgpConfig(s)).toEqual([
      {
        kind: 'BGPAdvertisement',
        name: 'a',
        field: 'spec.communities[1]',
        message: 'unknown Community alias "silver"',
      },
    ]);
  });

  it('refuses an alias defined in two Community objects', () => {
    const s = state({ communities: [community('c1', { gold: '1:1' }), community('c2', { gold: '1:2' })] });
    expect(checkBgpConfig(s)).toEqual([
      expect.objectContaining({ kind: 'Community', name: 'c2', field: 'spec.communities[0].name' }),
    ]);
  });

  it('refuses an aggregation length shorter than a selected pool CIDR, per family', () => {
    const s = state({
      advertisements: [adv('a', { aggregationLength: 16, aggregationLengthV6: 48 })],
      pools: [pool('p', ['10.0.0.0/24', '2001:db8::/56'])],
    });
    expect(checkBgpConfig(s)).toEqual([
      expect.objectContaining({
        name: 'a',
        field: 'spec.aggregationLength',
        message: expect.stringContaining(
          '16 is shorter than the /24 of IPAddressPool "p" (spec.addresses[0]',
        ),
      }),
      expect.objectContaining({ name: 'a', field: 'spec.aggregationLengthV6' }),
    ]);
  });

  it('measures a range by the smallest CIDR covering it', () => {
    const pools = [pool('p', ['10.0.0.1-10.0.0.5'])];
    expect(checkBgpConfig(state({ advertisements: [adv('a', { aggregationLength: 29 })], pools }))).toEqual(
      [],
    );
    expect(checkBgpConfig(state({ advertisements: [adv('a', { aggregationLength: 28 })], pools }))).toEqual([
      expect.objectContaining({ message: expect.stringContaining('the /29 of IPAddressPool "p"') }),
    ]);
  });

  it('accepts an aggregation at or longer than the pool prefix, and ignores pools not selected', () => {
    const s = state({
      advertisements: [adv('a', { aggregationLength: 24, ipAddressPools: ['p'] })],
      pools: [pool('p', ['10.0.0.0/24']), pool('q', ['10.1.0.0/28'])],
    });
    expect(checkBgpConfig(s)).toEqual([]);
  });

  it('refuses different localPref for the same pool and peers, once', () => {
    const s = state({
      advertisements: [
        adv('a', { localPref: 100, ipAddressPools: ['p'], peers: ['r1'] }),
        adv('b', { localPref: 200, peers: ['r1', 'r2'] }),
      ],
      pools: [pool('p', ['10.0.0.0/24'])],
    });
    expect(checkBgpConfig(s)).toEqual([
      {
        kind: 'BGPAdvertisement',
        name: 'b',
        field: 'spec.localPref',
        message:
          '200 conflicts with localPref 100 of BGPAdvertisement "a", which announces IPAddressPool "p" to the same peers',
      },
    ]);
  });

  it('allows different localPref for disjoint peers or pools, and equal localPref', () => {
    const pools = [pool('p', ['10.0.0.0/24']), pool('q', ['10.1.0.0/24'])];
    const ok = (a: AdvertisementSpecLike, b: AdvertisementSpecLike) =>
      checkBgpConfig(state({ advertisements: [adv('a', a), adv('b', b)], pools }));
    expect(ok({ localPref: 1, peers: ['r1'] }, { localPref: 2, peers: ['r2'] })).toEqual([]);
    expect(ok({ localPref: 1, ipAddressPools: ['p'] }, { localPref: 2, ipAddressPools: ['q'] })).toEqual([]);
    expect(ok({ localPref: 5 }, { localPref: 5 })).toEqual([]);
    expect(ok({ localPref: 5 }, {})).toEqual([]);
  });
});

describe('checkBgpChange', () => {
  const stored = state({
    advertisements: [adv('a', { communities: ['gold'], aggregationLength: 24, ipAddressPools: ['p'] })],
    communities: [community('c', { gold: '65000:100' })],
    pools: [pool('p', ['10.0.0.0/24'])],
  });

  it('refuses removing an alias an advertisement uses', () => {
    const errors = checkBgpChange(stored, 'Community', {
      metadata: { name: 'c' },
      spec: { communities: [] },
    });
    expect(errors).toEqual([expect.objectContaining({ kind: 'BGPAdvertisement', name: 'a' })]);
  });

  it('refuses narrowing a pool below an advertisement aggregation', () => {
    const errors = checkBgpChange(stored, 'IPAddressPool', {
      metadata: { name: 'p' },
      spec: { addresses: ['10.0.0.0/26'] },
    });
    expect(errors).toEqual([expect.objectContaining({ name: 'a', field: 'spec.aggregationLength' })]);
  });

  it('does not blame a change for errors that were already there', () => {
    const broken = {
      ...stored,
      advertisements: [...stored.advertisements, adv('z', { communities: ['nope'] })],
    };
    expect(checkBgpChange(broken, 'Community', { metadata: { name: 'd' }, spec: {} })).toEqual([]);
    // ...but the broken object itself is judged afresh when its spec is written.
    expect(
      checkBgpChange(broken, 'BGPAdvertisement', {
        metadata: { name: 'z' },
        spec: { communities: ['nope'] },
      }),
    ).toHaveLength(1);
  });
});

describe('bgpValidationHandler', () => {
  const source = (s: BgpConfigState, synced = true) => ({ state: () => s, hasSynced: () => synced });
  const request = (o: Partial<AdmissionRequest>): AdmissionRequest => ({
    uid: 'u',
    kind: { group: 'portico.io', version: 'v1alpha1', kind: 'BGPAdvertisement' },
    resource: { group: 'portico.io', version: 'v1alpha1', resource: 'bgpadvertisements' },
    operation: 'CREATE',
    namespace: NS,
    ...o,
  });
  const object = (name: string, spec: unknown) => ({ metadata: { name }, spec });

  it('registers for bgpadvertisements and communities in Portico’s namespace', () => {
    expect(bgpWebhookDefinition.rules[0]?.resources).toEqual(['bgpadvertisements', 'communities']);
    expect(bgpWebhookDefinition.namespaces).toBe('portico-namespace');
  });

  it('denies with 422, naming the object and the field', async () => {
    const r = await bgpValidationHandler(
      source(state({})),
      NS,
    )(request({ object: object('adv1', { communities: ['nope'] }) }));
    expect(r).toMatchObject({ allowed: false, status: { code: 422, reason: 'Invalid' } });
    expect(messageOf(r)).toBe('BGPAdvertisement "adv1": spec.communities[0]: unknown Community alias "nope"');
  });

  it('says which change breaks another object', async () => {
    const s = state({
      advertisements: [adv('adv1', { communities: ['gold'] })],
      communities: [community('c', { gold: '1:1' })],
    });
    const r = await bgpValidationHandler(
      source(s),
      NS,
    )(
      request({
        resource: { group: 'portico.io', version: 'v1alpha1', resource: 'communities' },
        operation: 'UPDATE',
        object: object('c', { communities: [{ name: 'silver', value: '1:1' }] }),
        oldObject: object('c', { communities: [{ name: 'gold', value: '1:1' }] }),
      }),
    );
    expect(messageOf(r)).toBe(
      'this change to Community "c" would break BGPAdvertisement "adv1": spec.communities[0]: unknown Community alias "gold"',
    );
  });

  it('allows deletes, other namespaces and metadata-only updates; waits for the caches', async () => {
    const h = bgpValidationHandler(source(state({})), NS);
    const bad = object('x', { communities: ['nope'] });
    expect(await h(request({ operation: 'DELETE', oldObject: bad }))).toEqual({ allowed: true });
    expect(await h(request({ namespace: 'other', object: bad }))).toEqual({ allowed: true });
    expect(await h(request({ operation: 'UPDATE', object: bad, oldObject: bad }))).toEqual({ allowed: true });
    const unsynced = bgpValidationHandler(source(state({}), false), NS);
    expect(await unsynced(request({ object: bad }))).toMatchObject({ allowed: false, status: { code: 503 } });
  });

  it('asks the apiserver before denying, so a cache behind the writes refuses nothing valid', async () => {
    const write = request({ object: object('adv1', { communities: ['gold'] }) });
    const behind = (fresh: () => Promise<BgpConfigState>) =>
      bgpValidationHandler({ ...source(state({})), fresh }, NS)(write);
    const current = state({ communities: [community('c', { gold: '1:1' })] });
    expect(await behind(async () => current)).toEqual({ allowed: true });
    expect(await behind(async () => state({}))).toMatchObject({ allowed: false });
    expect(await behind(() => Promise.reject(new Error('down')))).toMatchObject({ allowed: false });
  });

  it('runs after the pool webhook’s own checks', async () => {
    const definition = { ...bgpWebhookDefinition, name: 'pools' };
    const refusing = withBgpPoolChecks({ definition, handler: () => deny('pool says no') }, () => allow());
    expect(messageOf(await refusing.handler(request({})))).toBe('pool says no');
    const bgpRefuses = withBgpPoolChecks({ definition, handler: () => allow(['w']) }, () =>
      deny('bgp says no'),
    );
    expect(await bgpRefuses.handler(request({}))).toMatchObject({ allowed: false, warnings: ['w'] });
    expect(bgpRefuses.definition).toBe(definition);
  });
});
