import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatFieldError } from '../../../operator/allocator/errors.ts';
import { IntervalSet } from '../../../operator/allocator/intervals.ts';
import { parseIP } from '../../../operator/allocator/ip.ts';
import {
  buggyCount,
  checkWithinServiceCIDRs,
  formatEntry,
  isBuggyIPv4,
  parsePool,
  poolContains,
  validatePools,
} from '../../../operator/allocator/pool.ts';
import type { Pool } from '../../../operator/allocator/pool.ts';

function pool(name: string, spec: unknown): Pool {
  const r = parsePool(name, spec);
  if (!r.ok) throw new Error(r.error.map(formatFieldError).join('; '));
  return r.value;
}

function errorsOf(spec: unknown): string[] {
  const r = parsePool('p', spec);
  return r.ok ? [] : r.error.map(formatFieldError);
}

function addr(s: string) {
  const r = parseIP(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('parsePool', () => {
  it('accepts CIDRs, ranges and single addresses of both families', () => {
    const p = pool('mixed', {
      addresses: ['10.0.0.0/30', '10.0.1.1-10.0.1.3', '10.0.2.7', '2001:db8::/64', 'fd00::1 - fd00::2'],
    });
    expect(p.usage).toBe('LoadBalancer');
    expect(p.autoAssign).toBe(true);
    expect(p.avoidBuggyIPs).toBe(false);
    expect(p.serviceAllocation).toBeUndefined();
    expect(p.entries.map((e) => e.kind)).toEqual(['cidr', 'range', 'ip', 'cidr', 'range']);
    expect(p.total.IPv4).toBe(4n + 3n + 1n);
    expect(p.total.IPv6).toBe((1n << 64n) + 2n);
    expect(p.warnings).toEqual([]);
    expect(poolContains(p, addr('10.0.1.2'))).toBe(true);
    expect(poolContains(p, addr('10.0.1.4'))).toBe(false);
    expect(poolContains(p, addr('2001:db8::ffff'))).toBe(true);
  });

  it('reads autoAssign, avoidBuggyIPs, usage and serviceAllocation', () => {
    const p = pool('x', {
      addresses: ['10.0.0.0/24'],
      autoAssign: false,
      avoidBuggyIPs: true,
      usage: 'ClusterIP',
      serviceAllocation: { priority: 2, namespaces: ['a'] },
    });
    expect(p).toMatchObject({ autoAssign: false, avoidBuggyIPs: true, usage: 'ClusterIP' });
    expect(p.serviceAllocation).toEqual({
      priority: 2,
      namespaces: ['a'],
      namespaceSelectors: [],
      serviceSelectors: [],
    });
  });

  it('accepts host bits as the network, with a warning naming the entry', () => {
    const p = pool('h', { addresses: ['10.0.0.0/30', '10.0.1.9/30'] });
    expect(p.entries[1]).toMatchObject({ lo: addr('10.0.1.8').value, hi: addr('10.0.1.11').value });
    expect(p.warnings.map(formatFieldError)).toEqual([
      'spec.addresses[1]: "10.0.1.9/30" has host bits set; it is used as 10.0.1.8/30',
    ]);
  });

  it.each([
    [{ addresses: ['10.0.0.9-10.0.0.1'] }, 'spec.addresses[0]: "10.0.0.9-10.0.0.1" is a reversed range'],
    [
      { addresses: ['10.0.0.1', '10.0.0.9-10.0.0.1'] },
      'spec.addresses[1]: "10.0.0.9-10.0.0.1" is a reversed range',
    ],
    [{ addresses: [] }, 'spec.addresses: must list at least one CIDR, range or address'],
    [{}, 'spec.addresses: must list at least one CIDR, range or address'],
    [{ addresses: ['10.0.0.0/33'] }, 'spec.addresses[0]: "10.0.0.0/33" is not a valid CIDR'],
    [
      { addresses: ['10.0.0.1-2001:db8::1'] },
      'spec.addresses[0]: "10.0.0.1-2001:db8::1" mixes an IPv4 start',
    ],
    [{ addresses: ['10.0.0.1-10.0.0.x'] }, 'spec.addresses[0]: "10.0.0.1-10.0.0.x" has an invalid end'],
    [{ addresses: ['banana'] }, 'spec.addresses[0]: "banana" is not a CIDR, a start-end range or an address'],
    [{ addresses: [''] }, 'spec.addresses[0]: must not be empty'],
    [{ addresses: [7] }, 'spec.addresses[0]: 7 must be a string'],
    [
      { addresses: ['10.0.0.0/24', '10.0.0.128/25'] },
      'spec.addresses[1]: "10.0.0.128/25" overlaps spec.addresses[0]',
    ],
    [{ addresses: ['10.0.0.1'], autoAssign: 'yes' }, 'spec.autoAssign: "yes" must be true or false'],
    [{ addresses: ['10.0.0.1'], avoidBuggyIPs: 1 }, 'spec.avoidBuggyIPs: 1 must be true or false'],
    [
      { addresses: ['10.0.0.1'], usage: 'NodePort' },
      'spec.usage: "NodePort" is not one of LoadBalancer, ClusterIP',
    ],
    [{ addresses: ['10.0.0.1'], serviceAllocation: { priority: -3 } }, 'spec.serviceAllocation.priority: -3'],
    [
      {
        addresses: ['10.0.0.1'],
        serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'a' }] }] },
      },
      'spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].operator',
    ],
  ])('rejects %j', (spec, expected) => {
    const errors = errorsOf(spec);
    expect(errors.some((e) => e.startsWith(expected))).toBe(true);
  });

  it('reports every problem at once', () => {
    expect(errorsOf({ addresses: ['x', '10.0.0.2-10.0.0.1'], autoAssign: 3 })).toHaveLength(3);
  });

  it('rejects a non-object spec and an empty name', () => {
    const r = parsePool('', null);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.map((e) => e.path)).toEqual(['metadata.name', 'spec']);
  });

  it('has no size limit by default; maxEntrySize adds one', () => {
    expect(pool('huge', { addresses: ['::/0'] }).total.IPv6).toBe(1n << 128n);
    const r = parsePool('huge', { addresses: ['2001:db8::/64', '10.0.0.0/30'] }, { maxEntrySize: 1n << 32n });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.map(formatFieldError)).toEqual([
        'spec.addresses[0]: "2001:db8::/64" has 18446744073709551616 addresses, more than the limit of 4294967296',
      ]);
    }
  });
});

describe('avoidBuggyIPs', () => {
  it('excludes every IPv4 address ending in .0 or .255', () => {
    const p = pool('b', {
      addresses: ['10.0.0.0/23', '10.0.5.250-10.0.6.5', '2001:db8::/126'],
      avoidBuggyIPs: true,
    });
    expect(poolContains(p, addr('10.0.0.0'))).toBe(false);
    expect(poolContains(p, addr('10.0.0.255'))).toBe(false);
    expect(poolContains(p, addr('10.0.1.0'))).toBe(false);
    expect(poolContains(p, addr('10.0.1.1'))).toBe(true);
    expect(poolContains(p, addr('10.0.5.255'))).toBe(false);
    expect(poolContains(p, addr('10.0.6.0'))).toBe(false);
    expect(poolContains(p, addr('2001:db8::'))).toBe(true); // IPv6 is never avoided
    // /23: 512 - 4; range .5.250-.6.5: 12 - 2; IPv6 untouched.
    expect(p.total.IPv4).toBe(508n + 10n);
    expect(p.total.IPv6).toBe(4n);
  });

  it('counts arithmetically, even for a /8', () => {
    const p = pool('big', { addresses: ['10.0.0.0/8'], avoidBuggyIPs: true });
    expect(p.total.IPv4).toBe((1n << 24n) - 2n * (1n << 16n));
    expect(p.ranges.IPv4.ranges).toHaveLength(1);
  });

  it('warns about entries with nothing usable', () => {
    const p = pool('w', { addresses: ['10.0.0.255-10.0.1.0', '10.0.0.7'], avoidBuggyIPs: true });
    expect(p.total.IPv4).toBe(1n);
    expect(p.warnings.map(formatFieldError)).toEqual([
      'spec.addresses[0]: "10.0.0.255-10.0.1.0" has no usable address with avoidBuggyIPs',
    ]);
  });

  it('buggyCount matches counting one by one (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff - 2000 }),
        fc.integer({ min: 0, max: 2000 }),
        (lo, len) => {
          let n = 0n;
          for (let x = lo; x <= lo + len; x++) if (isBuggyIPv4(BigInt(x))) n++;
          expect(buggyCount(IntervalSet.range(BigInt(lo), BigInt(lo + len)))).toBe(n);
        },
      ),
    );
  });
});

describe('validatePools', () => {
  it('accepts disjoint pools', () => {
    const a = pool('a', { addresses: ['10.0.0.0/24', '2001:db8::/64'] });
    const b = pool('b', { addresses: ['10.0.1.0/24', '2001:db8:1::/64'] });
    const r = validatePools([a, b]);
    expect(r.accepted.map((p) => p.name)).toEqual(['a', 'b']);
    expect(r.rejected).toEqual([]);
  });

  it('rejects the later of two overlapping pools, naming both pools and the addresses fields', () => {
    const a = pool('a', { addresses: ['192.168.0.0/24', '10.0.0.0-10.0.0.10'] });
    const b = pool('b', { addresses: ['172.16.0.0/16', '10.0.0.8/29'] });
    const c = pool('c', { addresses: ['172.16.5.0/24'] }); // overlaps rejected b only: accepted
    const r = validatePools([a, b, c]);
    expect(r.accepted.map((p) => p.name)).toEqual(['a', 'c']);
    expect(r.rejected.map((x) => x.pool.name)).toEqual(['b']);
    expect(r.rejected[0]?.errors.map(formatFieldError)).toEqual([
      'spec.addresses[1]: "10.0.0.8/29" overlaps spec.addresses[1] ("10.0.0.0-10.0.0.10") of IPAddressPool "a"',
    ]);
    expect(r.conflicts).toEqual([expect.objectContaining({ pool: 'b', otherPool: 'a' })]);
  });

  it('reports duplicate names', () => {
    const r = validatePools([pool('a', { addresses: ['10.0.0.1'] }), pool('a', { addresses: ['10.0.0.2'] })]);
    expect(r.accepted).toHaveLength(1);
    expect(r.rejected[0]?.errors[0]?.path).toBe('metadata.name');
  });

  it('checks overlap per family only', () => {
    const r = validatePools([pool('v4', { addresses: ['0.0.0.0/0'] }), pool('v6', { addresses: ['::/96'] })]);
    expect(r.rejected).toEqual([]);
  });
});

describe('checkWithinServiceCIDRs', () => {
  it('names each entry outside every Service CIDR', () => {
    const p = pool('cip', {
      addresses: ['10.96.10.0/24', '10.200.0.0/24', 'fd00:10:96::/120'],
      usage: 'ClusterIP',
    });
    expect(checkWithinServiceCIDRs(p, ['10.96.0.0/12', 'fd00:10:96::/112']).map(formatFieldError)).toEqual([
      'spec.addresses[1]: "10.200.0.0/24" is not inside a Service CIDR of the cluster (10.96.0.0/12, fd00:10:96::/112)',
    ]);
    expect(checkWithinServiceCIDRs(p, [])).toHaveLength(3);
  });
});

describe('formatEntry', () => {
  it('prints CIDRs when the range is one, else first-last', () => {
    expect(formatEntry({ family: 'IPv4', lo: addr('10.0.0.0').value, hi: addr('10.0.0.255').value })).toBe(
      '10.0.0.0/24',
    );
    expect(formatEntry({ family: 'IPv4', lo: addr('10.0.0.1').value, hi: addr('10.0.0.3').value })).toBe(
      '10.0.0.1-10.0.0.3',
    );
    expect(formatEntry({ family: 'IPv6', lo: 1n, hi: 1n })).toBe('::1/128');
  });
});
