import { describe, expect, it } from '@jest/globals';
import { IPAllocator, requestedIPsFrom } from '../../../operator/allocator/assign.ts';
import type { AssignResult } from '../../../operator/allocator/assign.ts';
import { dual, expectOk, mkPool, v4, v6 } from './helpers.ts';

function failure(r: AssignResult) {
  if (r.ok) throw new Error(`expected failure, got ${r.ips.join(',')}`);
  return r;
}

function allocator(...pools: Parameters<typeof mkPool>[]) {
  const a = new IPAllocator();
  expect(a.setPools(pools.map(([n, s]) => mkPool(n, s)))).toEqual([]);
  return a;
}

describe('automatic assignment', () => {
  it('hands out the lowest free address, deterministically', () => {
    const a = allocator(['p', { addresses: ['10.0.0.0/30'] }]);
    expect(expectOk(a.assign(v4('ns/a'))).ips).toEqual(['10.0.0.0']);
    expect(expectOk(a.assign(v4('ns/b'))).ips).toEqual(['10.0.0.1']);
    const c = expectOk(a.assign(v4('ns/c')));
    expect(c).toMatchObject({ ips: ['10.0.0.2'], pool: 'p', source: 'auto', changed: true, sharedWith: [] });
    a.release('ns/b');
    expect(expectOk(a.assign(v4('ns/d'))).ips).toEqual(['10.0.0.1']);
  });

  it('reports PoolExhausted when every candidate pool is full, and recovers after a release', () => {
    const a = allocator(['p', { addresses: ['10.0.0.0/31'] }]);
    expectOk(a.assign(v4('ns/a')));
    expectOk(a.assign(v4('ns/b')));
    const f = failure(a.assign(v4('ns/c')));
    expect(f.reason).toBe('PoolExhausted');
    expect(f.message).toBe('no free IPv4 address in IPAddressPool "p"');
    expect(a.get('ns/c')).toBeUndefined();
    expect(a.release('ns/a')?.released.ips).toEqual(['10.0.0.0']);
    expect(expectOk(a.assign(v4('ns/c'))).ips).toEqual(['10.0.0.0']);
  });

  it('never uses a pool with autoAssign false on its own', () => {
    const a = allocator(['manual', { addresses: ['10.0.0.0/30'], autoAssign: false }]);
    const f = failure(a.assign(v4('ns/a')));
    expect(f.reason).toBe('NoEligiblePool');
    expect(f.message).toBe('no LoadBalancer IPAddressPool with autoAssign admits ns/a');
  });

  it('reports NoEligiblePool without pools', () => {
    expect(failure(new IPAllocator().assign(v4('ns/a'))).reason).toBe('NoEligiblePool');
  });

  it('skips .0 and .255 with avoidBuggyIPs', () => {
    const a = allocator(['p', { addresses: ['10.0.0.254-10.0.1.1'], avoidBuggyIPs: true }]);
    expect(expectOk(a.assign(v4('ns/a'))).ips).toEqual(['10.0.0.254']);
    expect(expectOk(a.assign(v4('ns/b'))).ips).toEqual(['10.0.1.1']);
    expect(failure(a.assign(v4('ns/c'))).reason).toBe('PoolExhausted');
  });

  it('ignores pools of the other usage', () => {
    const a = allocator(['cip', { addresses: ['10.96.0.0/24'], usage: 'ClusterIP' }]);
    expect(failure(a.assign(v4('ns/a'))).reason).toBe('NoEligiblePool');
    const c = new IPAllocator({ usage: 'ClusterIP' });
    c.setPools([mkPool('cip', { addresses: ['10.96.0.0/24'], usage: 'ClusterIP' })]);
    expect(expectOk(c.assign(v4('ns/a'))).ips).toEqual(['10.96.0.0']);
  });

  it('handles an IPv6 /64 without enumerating', () => {
    const a = allocator(['v6', { addresses: ['2001:db8::/64'] }]);
    for (let i = 0; i < 100; i++) expectOk(a.assign(v6(`ns/s${i}`)));
    expect(expectOk(a.assign(v6('ns/last'))).ips).toEqual(['2001:db8::64']);
    const [c] = a.counts();
    expect(c?.IPv6).toEqual({
      total: 1n << 64n,
      assigned: 101n,
      reserved: 0n,
      available: (1n << 64n) - 101n,
    });
  });
});

describe('pool order: serviceAllocation and priority', () => {
  it('prefers pools that select the Service, lower priority number first, then the unprioritised, then the rest', () => {
    const a = allocator(
      ['plain', { addresses: ['10.0.0.0/32'] }],
      ['prio-2', { addresses: ['10.0.2.0/32'], serviceAllocation: { priority: 2, namespaces: ['ns'] } }],
      ['prio-1', { addresses: ['10.0.1.0/32'], serviceAllocation: { priority: 1, namespaces: ['ns'] } }],
      ['no-prio', { addresses: ['10.0.3.0/32'], serviceAllocation: { namespaces: ['ns'] } }],
    );
    const order = ['ns/a', 'ns/b', 'ns/c', 'ns/d'].map((s) => expectOk(a.assign(v4(s))).pool);
    expect(order).toEqual(['prio-1', 'prio-2', 'no-prio', 'plain']);
    expect(failure(a.assign(v4('ns/e'))).message).toBe(
      'no free IPv4 address in the eligible IPAddressPools ("prio-1", "prio-2", "no-prio", "plain")',
    );
  });

  it('never uses a pool whose serviceAllocation does not admit the Service', () => {
    const a = allocator(
      ['team-b', { addresses: ['10.0.1.0/30'], serviceAllocation: { namespaces: ['b'] } }],
      [
        'web-only',
        {
          addresses: ['10.0.2.0/30'],
          serviceAllocation: { serviceSelectors: [{ matchLabels: { app: 'web' } }] },
        },
      ],
    );
    expect(failure(a.assign(v4('a/x'))).reason).toBe('NoEligiblePool');
    expect(expectOk(a.assign(v4('b/x'))).pool).toBe('team-b');
    expect(expectOk(a.assign(v4('a/web', { serviceLabels: { app: 'web' } }))).pool).toBe('web-only');
  });

  it('selects namespaces by label too', () => {
    const a = allocator([
      'prod',
      {
        addresses: ['10.0.1.0/30'],
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { env: 'prod' } }] },
      },
    ]);
    expect(failure(a.assign(v4('x/s', { namespaceLabels: { env: 'dev' } }))).reason).toBe('NoEligiblePool');
    expect(expectOk(a.assign(v4('x/s', { namespaceLabels: { env: 'prod' } }))).pool).toBe('prod');
  });

  it('does not use an admitting pool whose autoAssign is false', () => {
    const a = allocator(
      [
        'pinned-manual',
        { addresses: ['10.0.1.0/30'], autoAssign: false, serviceAllocation: { priority: 1 } },
      ],
      ['plain', { addresses: ['10.0.2.0/30'] }],
    );
    expect(expectOk(a.assign(v4('ns/a'))).pool).toBe('plain');
  });
});

describe('requested IPs', () => {
  const pools = () =>
    allocator(
      ['p', { addresses: ['10.0.0.0/24', '2001:db8::/120'] }],
      ['manual', { addresses: ['10.0.1.0/24'], autoAssign: false }],
      ['q', { addresses: ['10.0.2.0/24'] }],
      ['buggy', { addresses: ['10.0.3.0/24'], avoidBuggyIPs: true }],
      ['cip', { addresses: ['10.96.0.0/24'], usage: 'ClusterIP' }],
      ['team', { addresses: ['10.0.4.0/24'], serviceAllocation: { namespaces: ['team'] } }],
    );

  it('gives the requested address when it is in a pool', () => {
    const a = pools();
    const r = expectOk(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.77'] })));
    expect(r).toMatchObject({ ips: ['10.0.0.77'], pool: 'p', source: 'requested' });
  });

  it('allows a pool with autoAssign false', () => {
    expect(expectOk(pools().assign(v4('ns/a', { requestedIPs: ['10.0.1.5'] }))).pool).toBe('manual');
  });

  it('canonicalises the requested address', () => {
    const r = expectOk(pools().assign(v6('ns/a', { requestedIPs: ['2001:DB8:0::0:10'] })));
    expect(r.ips).toEqual(['2001:db8::10']);
  });

  it.each([
    ['10.9.9.9', 'requested address 10.9.9.9 is not in any LoadBalancer IPAddressPool'],
    [
      '10.0.3.0',
      'requested address 10.0.3.0 is in IPAddressPool "buggy", which avoids .0 and .255 addresses (avoidBuggyIPs)',
    ],
    [
      '10.96.0.5',
      'requested address 10.96.0.5 is in IPAddressPool "cip", whose usage is ClusterIP, not LoadBalancer',
    ],
  ])('refuses %s with RequestedIPNotInPool', (ip, message) => {
    const f = failure(pools().assign(v4('ns/a', { requestedIPs: [ip] })));
    expect(f).toMatchObject({ reason: 'RequestedIPNotInPool', ip, message });
  });

  it('refuses addresses from two pools, and a requested pool that does not hold them', () => {
    const a = pools();
    const f1 = failure(
      a.assign(dual('ns/a', 'RequireDualStack', { requestedIPs: ['10.0.2.1', '2001:db8::1'] })),
    );
    expect(f1.reason).toBe('PoolMismatch');
    const f2 = failure(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.1'], pool: 'q' })));
    expect(f2).toMatchObject({ reason: 'PoolMismatch', pool: 'p' });
    expect(f2.message).toBe(
      'requested addresses 10.0.0.1 are in IPAddressPool "p", not in the requested pool "q"',
    );
    expect(expectOk(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.1'], pool: 'p' }))).ips).toEqual([
      '10.0.0.1',
    ]);
  });

  it('refuses a pool whose serviceAllocation does not admit the Service', () => {
    const a = pools();
    expect(failure(a.assign(v4('ns/a', { requestedIPs: ['10.0.4.1'] }))).reason).toBe('PoolNotEligible');
    expect(expectOk(a.assign(v4('team/a', { requestedIPs: ['10.0.4.1'] }))).pool).toBe('team');
  });

  it('refuses an address in use, naming the other Service', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/first', { requestedIPs: ['10.0.0.9'] })));
    const f = failure(a.assign(v4('ns/second', { requestedIPs: ['10.0.0.9'] })));
    expect(f).toMatchObject({
      reason: 'IPInUse',
      ip: '10.0.0.9',
      conflict: 'NotShared',
      conflictsWith: ['ns/first'],
    });
    expect(f.message).toBe(
      'requested address 10.0.0.9 cannot be used: it is in use by ns/first and this Service has no sharing key',
    );
  });

  it.each([
    [
      v4('ns/a', { requestedIPs: ['10.0.0.300'] }),
      'requested address "10.0.0.300" is not a valid IP address',
    ],
    [
      v4('ns/a', { requestedIPs: ['2001:db8::1'] }),
      "is IPv6, which does not match the Service's ipFamilies IPv4",
    ],
    [v4('ns/a', { requestedIPs: ['10.0.0.1', '10.0.0.2'] }), 'are of the same family'],
    [
      v4('ns/a', { requestedIPs: ['10.0.0.1', '2001:db8::1', '10.0.0.2'] }),
      'at most two requested addresses',
    ],
    [
      dual('ns/a', 'RequireDualStack', { requestedIPs: ['10.0.0.1'] }),
      'needs one requested address of each family',
    ],
  ])('rejects a malformed request %#', (req, message) => {
    const f = failure(pools().assign(req));
    expect(f.reason).toBe('InvalidRequest');
    expect(f.message).toContain(message);
  });

  it('requestedIPsFrom splits the annotation and refuses both sources at once', () => {
    expect(requestedIPsFrom(undefined, '10.0.0.1, 2001:db8::1')).toEqual({
      ok: true,
      value: ['10.0.0.1', '2001:db8::1'],
    });
    expect(requestedIPsFrom('10.0.0.1', undefined)).toEqual({ ok: true, value: ['10.0.0.1'] });
    expect(requestedIPsFrom('', '')).toEqual({ ok: true, value: [] });
    expect(requestedIPsFrom('10.0.0.1', '10.0.0.2').ok).toBe(false);
  });
});

describe('requested pool (address-pool annotation)', () => {
  const pools = () =>
    allocator(
      ['p', { addresses: ['10.0.0.0/31'] }],
      ['manual', { addresses: ['10.0.1.0/31'], autoAssign: false }],
      ['team', { addresses: ['10.0.4.0/24'], serviceAllocation: { namespaces: ['team'] } }],
      ['cip', { addresses: ['10.96.0.0/24'], usage: 'ClusterIP' }],
    );

  it('allocates from the named pool even when autoAssign is false', () => {
    expect(expectOk(pools().assign(v4('ns/a', { pool: 'manual' })))).toMatchObject({
      ips: ['10.0.1.0'],
      pool: 'manual',
      source: 'pool',
    });
  });

  it('reports PoolNotFound for a missing pool or one of another usage', () => {
    const a = pools();
    expect(failure(a.assign(v4('ns/a', { pool: 'nope' })))).toMatchObject({
      reason: 'PoolNotFound',
      message: 'IPAddressPool "nope" does not exist',
    });
    expect(failure(a.assign(v4('ns/a', { pool: 'cip' }))).message).toBe(
      'IPAddressPool "cip" has usage ClusterIP, not LoadBalancer',
    );
  });

  it('reports PoolNotEligible when the pool does not admit the Service', () => {
    expect(failure(pools().assign(v4('ns/a', { pool: 'team' }))).reason).toBe('PoolNotEligible');
  });

  it('does not fall back to other pools when the named pool is full', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/a', { pool: 'manual' })));
    expectOk(a.assign(v4('ns/b', { pool: 'manual' })));
    expect(failure(a.assign(v4('ns/c', { pool: 'manual' })))).toMatchObject({
      reason: 'PoolExhausted',
      pool: 'manual',
    });
  });

  it('reports FamilyNotAvailable when the pool lacks the family', () => {
    expect(failure(pools().assign(v6('ns/a', { pool: 'p' })))).toMatchObject({
      reason: 'FamilyNotAvailable',
      message: 'IPAddressPool "p" has no IPv6 addresses',
    });
  });
});

describe('sharing', () => {
  const base = () => allocator(['p', { addresses: ['10.0.0.0/29'] }]);
  const tcp = (port: number) => ({ protocol: 'TCP' as const, port });
  const udp = (port: number) => ({ protocol: 'UDP' as const, port });

  it('puts Services with the same key and distinct ports on one address automatically', () => {
    const a = base();
    expectOk(a.assign(v4('ns/dns-tcp', { sharingKey: 'dns', ports: [tcp(53)] })));
    const r = expectOk(a.assign(v4('ns/dns-udp', { sharingKey: 'dns', ports: [udp(53)] })));
    expect(r).toMatchObject({ ips: ['10.0.0.0'], sharedWith: ['ns/dns-tcp'] });
    expect(a.usersOf('10.0.0.0')).toEqual(['ns/dns-tcp', 'ns/dns-udp']);
    expect(a.counts()[0]?.IPv4.assigned).toBe(1n);
  });

  it('allows an explicit shared request', () => {
    const a = base();
    expectOk(a.assign(v4('ns/web', { sharingKey: 'k', ports: [tcp(80)], requestedIPs: ['10.0.0.5'] })));
    expect(
      expectOk(a.assign(v4('ns/tls', { sharingKey: 'k', ports: [tcp(443)], requestedIPs: ['10.0.0.5'] })))
        .sharedWith,
    ).toEqual(['ns/web']);
  });

  it.each([
    [
      'the same port',
      { sharingKey: 'k', ports: [tcp(80)] },
      'PortInUse',
      'port TCP/80 on it is already used by ns/web',
    ],
    [
      'another key',
      { sharingKey: 'other', ports: [tcp(443)] },
      'SharingKeyMismatch',
      'with sharing key "k", not "other"',
    ],
    ['no key', { ports: [tcp(443)] }, 'NotShared', 'this Service has no sharing key'],
    [
      'Local with Cluster',
      {
        sharingKey: 'k',
        ports: [tcp(443)],
        externalTrafficPolicy: 'Local' as const,
        selector: { app: 'web' },
      },
      'BackendMismatch',
      'externalTrafficPolicy Local',
    ],
  ])('refuses %s', (_name, extra, conflict, message) => {
    const a = base();
    expectOk(
      a.assign(
        v4('ns/web', {
          sharingKey: 'k',
          ports: [tcp(80)],
          requestedIPs: ['10.0.0.5'],
          selector: { app: 'web' },
        }),
      ),
    );
    const f = failure(a.assign(v4('ns/other', { ...extra, requestedIPs: ['10.0.0.5'] })));
    expect(f).toMatchObject({ reason: 'IPInUse', conflict, conflictsWith: ['ns/web'] });
    expect(f.message).toContain(message);
    // Automatic assignment just picks another address.
    expect(expectOk(a.assign(v4('ns/other', extra))).ips).toEqual(['10.0.0.0']);
  });

  it('refuses when the existing user has no key', () => {
    const a = base();
    expectOk(a.assign(v4('ns/web', { requestedIPs: ['10.0.0.5'] })));
    const f = failure(a.assign(v4('ns/x', { sharingKey: 'k', requestedIPs: ['10.0.0.5'] })));
    expect(f.conflict).toBe('NotShared');
    expect(f.message).toContain('ns/web, which does not allow sharing');
  });

  it('needs the same selector when externalTrafficPolicy is Local', () => {
    const a = base();
    const local = (svc: string, app: string, port: number) =>
      v4(svc, {
        sharingKey: 'k',
        ports: [tcp(port)],
        externalTrafficPolicy: 'Local',
        selector: { app },
        requestedIPs: ['10.0.0.3'],
      });
    expectOk(a.assign(local('ns/a', 'web', 80)));
    expect(expectOk(a.assign(local('ns/b', 'web', 81))).sharedWith).toEqual(['ns/a']);
    expect(failure(a.assign(local('ns/c', 'api', 82))).conflict).toBe('BackendMismatch');
  });

  it('lets Cluster Services share whatever their selectors', () => {
    const a = base();
    expectOk(a.assign(v4('ns/a', { sharingKey: 'k', ports: [tcp(80)], selector: { app: 'a' } })));
    expect(
      expectOk(a.assign(v4('ns/b', { sharingKey: 'k', ports: [tcp(81)], selector: { app: 'b' } }))).ips,
    ).toEqual(['10.0.0.0']);
  });

  it('keeps the address for the remaining users when one releases', () => {
    const a = base();
    expectOk(a.assign(v4('ns/a', { sharingKey: 'k', ports: [tcp(80)] })));
    expectOk(a.assign(v4('ns/b', { sharingKey: 'k', ports: [tcp(81)] })));
    a.release('ns/a');
    expect(a.usersOf('10.0.0.0')).toEqual(['ns/b']);
    expect(a.counts()[0]?.IPv4.assigned).toBe(1n);
    expect(expectOk(a.assign(v4('ns/c'))).ips).toEqual(['10.0.0.1']);
    a.release('ns/b');
    expect(a.counts()[0]?.IPv4.assigned).toBe(1n);
    expect(expectOk(a.assign(v4('ns/d'))).ips).toEqual(['10.0.0.0']);
  });

  it('lets the only user change its key in place', () => {
    const a = base();
    expectOk(a.assign(v4('ns/a', { sharingKey: 'k1', ports: [tcp(80)] })));
    const r = expectOk(a.assign(v4('ns/a', { sharingKey: 'k2', ports: [tcp(80)] })));
    expect(r).toMatchObject({ ips: ['10.0.0.0'], source: 'existing', changed: false });
    expect(a.get('ns/a')?.sharingKey).toBe('k2');
    expect(expectOk(a.assign(v4('ns/b', { sharingKey: 'k2', ports: [tcp(81)] }))).ips).toEqual(['10.0.0.0']);
  });

  it('moves a Service whose new ports clash with its sharing partner', () => {
    const a = base();
    expectOk(a.assign(v4('ns/a', { sharingKey: 'k', ports: [tcp(80)] })));
    expectOk(a.assign(v4('ns/b', { sharingKey: 'k', ports: [tcp(81)] })));
    const r = expectOk(a.assign(v4('ns/b', { sharingKey: 'k', ports: [tcp(80)] })));
    expect(r).toMatchObject({ ips: ['10.0.0.1'], changed: true, replaced: { ips: ['10.0.0.0'] } });
  });
});

describe('dual-stack', () => {
  const pools = () =>
    allocator(
      ['v4only', { addresses: ['10.0.0.0/30'], serviceAllocation: { priority: 1 } }],
      ['dual', { addresses: ['10.1.0.0/30', 'fd00::/126'], serviceAllocation: { priority: 2 } }],
      ['v6only', { addresses: ['fd00:6::/126'] }],
    );

  it('SingleStack follows ipFamilies[0]', () => {
    const a = pools();
    expect(expectOk(a.assign(v4('ns/a'))).ips).toEqual(['10.0.0.0']);
    expect(expectOk(a.assign(v6('ns/b'))).ips).toEqual(['fd00::']);
    expect(expectOk(a.assign(v6('ns/c', { ipFamilyPolicy: 'SingleStack' }))).pool).toBe('dual');
  });

  it('RequireDualStack takes one of each family from one pool, skipping single-family pools', () => {
    const r = expectOk(pools().assign(dual('ns/a', 'RequireDualStack')));
    expect(r).toMatchObject({ pool: 'dual', ips: ['10.1.0.0', 'fd00::'] });
  });

  it('returns addresses in ipFamilies order', () => {
    const r = expectOk(
      pools().assign({ service: 'ns/a', ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' }),
    );
    expect(r.ips).toEqual(['fd00::', '10.1.0.0']);
  });

  it('RequireDualStack fails with FamilyNotAvailable when no pool has both, PoolExhausted when full', () => {
    const a = allocator(
      ['v4only', { addresses: ['10.0.0.0/30'] }],
      ['v6only', { addresses: ['fd00:6::/126'] }],
    );
    expect(failure(a.assign(dual('ns/a', 'RequireDualStack')))).toMatchObject({
      reason: 'FamilyNotAvailable',
      message: 'the eligible IPAddressPools ("v4only", "v6only") have no IPv4 and IPv6 addresses in one pool',
    });
    const b = allocator(['dual', { addresses: ['10.1.0.0/32', 'fd00::/127'] }]);
    expectOk(b.assign(dual('ns/a', 'RequireDualStack')));
    expect(failure(b.assign(dual('ns/b', 'RequireDualStack'))).reason).toBe('PoolExhausted');
  });

  it('RequireDualStack and SingleStack check the number of ipFamilies', () => {
    const a = pools();
    expect(failure(a.assign(v4('ns/a', { ipFamilyPolicy: 'RequireDualStack' }))).reason).toBe(
      'InvalidRequest',
    );
    expect(failure(a.assign(dual('ns/a', 'PreferDualStack', { ipFamilyPolicy: 'SingleStack' }))).reason).toBe(
      'InvalidRequest',
    );
    expect(failure(a.assign({ service: 'ns/a', ipFamilies: [] })).message).toBe(
      'the Service has no ipFamilies yet',
    );
    expect(failure(a.assign({ service: 'ns/a', ipFamilies: ['IPv4', 'IPv4'] })).reason).toBe(
      'InvalidRequest',
    );
  });

  it('PreferDualStack takes both from a dual pool', () => {
    expect(expectOk(pools().assign(dual('ns/a', 'PreferDualStack'))).ips).toEqual(['10.1.0.0', 'fd00::']);
  });

  it('PreferDualStack falls back to the primary family, then the secondary', () => {
    const onlyV4 = allocator(['v4', { addresses: ['10.0.0.0/30'] }]);
    expect(expectOk(onlyV4.assign(dual('ns/a', 'PreferDualStack'))).ips).toEqual(['10.0.0.0']);
    const onlyV6 = allocator(['v6', { addresses: ['fd00::/126'] }]);
    expect(expectOk(onlyV6.assign(dual('ns/a', 'PreferDualStack'))).ips).toEqual(['fd00::']);
    const both = allocator(['a-v6', { addresses: ['fd00::/126'] }], ['b-v4', { addresses: ['10.0.0.0/30'] }]);
    expect(expectOk(both.assign(dual('ns/a', 'PreferDualStack'))).pool).toBe('b-v4'); // primary wins over order
  });

  it('PreferDualStack searches the pinned pools as a group before the fallback pools (MetalLB)', () => {
    const a = allocator(
      ['pinned-v4', { addresses: ['10.0.0.0/30'], serviceAllocation: { namespaces: ['ns'] } }],
      ['plain-dual', { addresses: ['10.1.0.0/30', 'fd00::/126'] }],
    );
    expect(expectOk(a.assign(dual('ns/a', 'PreferDualStack'))).ips).toEqual(['10.0.0.0']);
  });

  it('PreferDualStack with one ipFamily behaves as SingleStack', () => {
    const r = expectOk(pools().assign(v6('ns/a', { ipFamilyPolicy: 'PreferDualStack' })));
    expect(r.ips).toEqual(['fd00::']);
  });

  it('PreferDualStack widens a single-family assignment from the same pool when it can', () => {
    const a = allocator(['dual', { addresses: ['10.0.0.0/30', 'fd00::/128'] }]);
    expectOk(a.assign(v6('ns/hog')));
    expect(expectOk(a.assign(dual('ns/a', 'PreferDualStack'))).ips).toEqual(['10.0.0.0']);
    a.release('ns/hog');
    const r = expectOk(a.assign(dual('ns/a', 'PreferDualStack')));
    expect(r).toMatchObject({ ips: ['10.0.0.0', 'fd00::'], source: 'existing', changed: true });
  });

  it('PreferDualStack accepts a requested address of one family', () => {
    expect(
      expectOk(pools().assign(dual('ns/a', 'PreferDualStack', { requestedIPs: ['fd00::2'] }))).ips,
    ).toEqual(['fd00::2']);
  });

  it('FamilyNotAvailable when no candidate pool has the family', () => {
    const a = allocator(['v4', { addresses: ['10.0.0.0/30'] }]);
    expect(failure(a.assign(v6('ns/a')))).toMatchObject({
      reason: 'FamilyNotAvailable',
      message: 'IPAddressPool "v4" has no IPv6 addresses',
    });
  });
});

describe('existing assignments', () => {
  const pools = () =>
    allocator(
      ['p', { addresses: ['10.0.0.0/29', 'fd00::/125'] }],
      ['q', { addresses: ['10.0.1.0/29'] }],
      [
        'web',
        {
          addresses: ['10.0.2.0/29'],
          serviceAllocation: { priority: 1, serviceSelectors: [{ matchLabels: { app: 'web' } }] },
        },
      ],
    );

  it('is idempotent', () => {
    const a = pools();
    const first = expectOk(a.assign(v4('ns/a')));
    const again = expectOk(a.assign(v4('ns/a')));
    expect(again).toMatchObject({ ips: first.ips, source: 'existing', changed: false });
    expect(a.assignments()).toHaveLength(1);
  });

  it('keeps an automatic assignment when a better pool appears (no churn)', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/a')));
    a.setPools([
      ...a.pools(),
      mkPool('better', { addresses: ['10.9.0.0/24'], serviceAllocation: { priority: 1 } }),
    ]);
    expect(expectOk(a.assign(v4('ns/a'))).ips).toEqual(['10.0.0.0']);
  });

  it('moves when the requested address changes', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.3'] })));
    const r = expectOk(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.4'] })));
    expect(r).toMatchObject({ ips: ['10.0.0.4'], changed: true, replaced: { ips: ['10.0.0.3'] } });
    expect(a.usersOf('10.0.0.3')).toEqual([]);
  });

  it('moves when the requested pool changes', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/a')));
    expect(expectOk(a.assign(v4('ns/a', { pool: 'q' }))).ips).toEqual(['10.0.1.0']);
  });

  it('moves when its pool stops admitting it', () => {
    const a = pools();
    expect(expectOk(a.assign(v4('ns/a', { serviceLabels: { app: 'web' } }))).pool).toBe('web');
    expect(expectOk(a.assign(v4('ns/a', { serviceLabels: { app: 'db' } }))).pool).toBe('p');
  });

  it('moves when the family changes', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/a')));
    expect(expectOk(a.assign(v6('ns/a'))).ips).toEqual(['fd00::']);
  });

  it('releases the old assignment even when the new request fails, and says so', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/a')));
    const f = failure(a.assign(v4('ns/a', { requestedIPs: ['192.0.2.1'] })));
    expect(f).toMatchObject({ reason: 'RequestedIPNotInPool', replaced: { ips: ['10.0.0.0'] } });
    expect(a.get('ns/a')).toBeUndefined();
  });

  it('keeps the current assignment when the request is malformed', () => {
    const a = pools();
    expectOk(a.assign(v4('ns/a')));
    const f = failure(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.x'] })));
    expect(f.reason).toBe('InvalidRequest');
    expect(f.replaced).toBeUndefined();
    expect(a.get('ns/a')?.ips).toEqual(['10.0.0.0']);
  });

  it('release is a no-op for unknown Services', () => {
    expect(pools().release('ns/none')).toBeUndefined();
  });
});

describe('setPools', () => {
  it('evicts assignments whose addresses left every pool, and follows renamed pools', () => {
    const a = allocator(['p', { addresses: ['10.0.0.0/29'] }], ['q', { addresses: ['10.0.1.0/29'] }]);
    expectOk(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.1'] })));
    expectOk(a.assign(v4('ns/b', { requestedIPs: ['10.0.0.6'] })));
    expectOk(a.assign(v4('ns/c', { pool: 'q' })));
    const evictions = a.setPools([
      mkPool('p', { addresses: ['10.0.0.0/30'] }),
      mkPool('renamed', { addresses: ['10.0.1.0/29'] }),
    ]);
    expect(evictions.map((e) => [e.assignment.service, e.message])).toEqual([
      ['ns/b', '10.0.0.6 is not in any LoadBalancer IPAddressPool'],
    ]);
    expect(a.get('ns/c')?.pool).toBe('renamed');
    expect(a.counts().map((c) => [c.pool, c.IPv4.assigned])).toEqual([
      ['p', 1n],
      ['renamed', 1n],
    ]);
  });

  it('evicts addresses that avoidBuggyIPs now excludes', () => {
    const a = allocator(['p', { addresses: ['10.0.0.0/29'] }]);
    expectOk(a.assign(v4('ns/a')));
    const ev = a.setPools([mkPool('p', { addresses: ['10.0.0.0/29'], avoidBuggyIPs: true })]);
    expect(ev[0]?.message).toContain('avoidBuggyIPs');
    expect(expectOk(a.assign(v4('ns/a'))).ips).toEqual(['10.0.0.1']);
  });
});

describe('restore', () => {
  const pools = () =>
    allocator(
      ['p', { addresses: ['10.0.0.0/29', 'fd00::/125'] }],
      ['team', { addresses: ['10.0.4.0/29'], serviceAllocation: { namespaces: ['team'] } }],
    );

  it('re-admits recorded addresses so that nothing else takes them', () => {
    const a = pools();
    const r = expectOk(a.restore('ns/a', ['10.0.0.3', 'fd00::3']));
    expect(r).toMatchObject({ source: 'restore', ips: ['10.0.0.3', 'fd00::3'], pool: 'p' });
    expect(expectOk(a.assign(v4('ns/b', { requestedIPs: ['10.0.0.0'] }))).ips).toEqual(['10.0.0.0']);
    expect(expectOk(a.assign(v4('ns/c'))).ips).toEqual(['10.0.0.1']);
    // The owner reconciling afterwards keeps what it had.
    expect(expectOk(a.assign(dual('ns/a', 'RequireDualStack'))).source).toBe('existing');
  });

  it('reports a clash instead of double-assigning', () => {
    const a = pools();
    expectOk(a.restore('ns/first', ['10.0.0.3']));
    const f = failure(a.restore('ns/second', ['10.0.0.3']));
    expect(f).toMatchObject({ reason: 'IPInUse', conflictsWith: ['ns/first'] });
    expect(a.usersOf('10.0.0.3')).toEqual(['ns/first']);
  });

  it('re-admits compatible sharers', () => {
    const a = pools();
    const info = (port: number) => ({ sharingKey: 'k', ports: [{ protocol: 'TCP' as const, port }] });
    expectOk(a.restore('ns/a', ['10.0.0.3'], info(80)));
    expect(expectOk(a.restore('ns/b', ['10.0.0.3'], info(81))).sharedWith).toEqual(['ns/a']);
    expect(failure(a.restore('ns/c', ['10.0.0.3'], info(81))).conflict).toBe('PortInUse');
  });

  it('does not check serviceAllocation (assign moves the Service later)', () => {
    const a = pools();
    expectOk(a.restore('other/a', ['10.0.4.1']));
    expect(expectOk(a.assign(v4('other/a'))).pool).toBe('p');
  });

  it('refuses addresses outside every pool and malformed input', () => {
    const a = pools();
    expect(failure(a.restore('ns/a', ['192.0.2.1'])).reason).toBe('RequestedIPNotInPool');
    expect(failure(a.restore('ns/a', ['10.0.0.1', '10.0.0.2'])).reason).toBe('InvalidRequest');
    expect(failure(a.restore('ns/a', ['nope'])).reason).toBe('InvalidRequest');
    expect(failure(a.restore('bad', ['10.0.0.1'])).reason).toBe('InvalidRequest');
    expect(failure(a.restore('ns/a', [])).reason).toBe('InvalidRequest');
    expect(failure(a.restore('ns/a', ['10.0.4.1', 'fd00::1'])).reason).toBe('PoolMismatch');
  });
});

describe('request validation', () => {
  it.each([
    [{ service: 'no-slash', ipFamilies: ['IPv4'] }, 'is not namespace/name'],
    [{ service: 'ns/a', ipFamilies: ['IPv5'] }, 'must be one or two distinct families'],
    [{ service: 'ns/a', ipFamilies: ['IPv4'], ipFamilyPolicy: 'Whatever' }, 'is not one of'],
    [{ service: 'ns/a', ipFamilies: ['IPv4'], ports: [{ protocol: 'HTTP', port: 80 }] }, 'ports[0].protocol'],
    [{ service: 'ns/a', ipFamilies: ['IPv4'], ports: [{ protocol: 'TCP', port: 0 }] }, 'ports[0].port'],
    [{ service: 'ns/a', ipFamilies: ['IPv4'], externalTrafficPolicy: 'Nowhere' }, 'externalTrafficPolicy'],
    [{ service: 'ns/a', ipFamilies: ['IPv4'], selector: { app: 1 } }, 'selector must be a map of strings'],
    [{ service: 'ns/a', ipFamilies: ['IPv4'], requestedIPs: '10.0.0.1' }, 'requestedIPs must be a list'],
    [null, 'the request must be an object'],
  ])('rejects %j', (req, message) => {
    const a = allocator(['p', { addresses: ['10.0.0.0/29'] }]);
    const f = failure(a.assign(req as never));
    expect(f.reason).toBe('InvalidRequest');
    expect(f.message).toContain(message);
  });
});

describe('address order within a pool (MetalLB walks entries as written)', () => {
  it('takes addresses entry by entry, not numerically', () => {
    const a = new IPAllocator();
    a.setPools([mkPool('p', { addresses: ['192.168.10.0/30', '192.168.9.1-192.168.9.2', 'fd00::/127'] })]);
    const got = ['a', 'b', 'c', 'd', 'e'].map((s) => expectOk(a.assign(v4(`ns/${s}`))).ips[0]);
    expect(got).toEqual(['192.168.10.0', '192.168.10.1', '192.168.10.2', '192.168.10.3', '192.168.9.1']);
    a.release('ns/b');
    expect(expectOk(a.assign(v4('ns/f'))).ips).toEqual(['192.168.10.1']);
  });

  it('shares within the first entry that has room before moving on', () => {
    const a = new IPAllocator();
    a.setPools([mkPool('p', { addresses: ['10.0.1.0/31', '10.0.0.0/31'] })]);
    const k = (port: number) => ({ sharingKey: 'k', ports: [{ protocol: 'TCP' as const, port }] });
    expect(expectOk(a.assign(v4('ns/a', k(80)))).ips).toEqual(['10.0.1.0']);
    expect(expectOk(a.assign(v4('ns/b', k(443)))).ips).toEqual(['10.0.1.0']);
    expect(expectOk(a.assign(v4('ns/c', k(80)))).ips).toEqual(['10.0.1.1']);
    expect(expectOk(a.assign(v4('ns/d', k(80)))).ips).toEqual(['10.0.0.0']);
  });
});
