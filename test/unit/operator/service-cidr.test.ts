import { describe, expect, it } from '@jest/globals';
import { parsePool } from '../../../operator/allocator/index.ts';
import type { Pool } from '../../../operator/allocator/index.ts';
import {
  clusterCIDRs,
  desiredServiceCIDR,
  sameCIDRs,
  serviceCIDRCondition,
  serviceCIDRName,
} from '../../../operator/controllers/pools/service-cidr.ts';

function pool(addresses: string[]): Pool {
  const r = parsePool('tenant', { addresses, usage: 'ClusterIP' });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}
const cidrs = clusterCIDRs([
  { metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/16', 'fd00:10:96::/112'] } },
  {
    metadata: { name: 'going', deletionTimestamp: '2026-11-30T00:00:00Z' },
    spec: { cidrs: ['10.200.0.0/16'] },
  },
]);

describe('ClusterIP pools and ServiceCIDRs', () => {
  it('is inside when a ServiceCIDR holds every entry whole', () => {
    const c = serviceCIDRCondition(pool(['10.96.0.192/26', 'fd00:10:96::c0-fd00:10:96::ff']), cidrs);
    expect(c).toMatchObject({ type: 'OutsideServiceCIDR', status: 'False', reason: 'InsideServiceCIDR' });
  });

  it("names the entries outside and the cluster's CIDRs, ignoring ServiceCIDRs being deleted", () => {
    const c = serviceCIDRCondition(pool(['10.96.1.0/24', '10.200.1.0/24', '10.95.255.0-10.96.0.5']), cidrs);
    expect(c.status).toBe('True');
    expect(c.message).toContain('spec.addresses[1] "10.200.1.0/24"');
    expect(c.message).toContain('spec.addresses[2] "10.95.255.0-10.96.0.5"');
    expect(c.message).not.toContain('spec.addresses[0]');
    expect(c.message).toContain(
      "the cluster's ServiceCIDRs: kubernetes 10.96.0.0/16, kubernetes fd00:10:96::/112",
    );
    expect(c.message).not.toContain('going');
  });

  it('says so when the cluster has no ServiceCIDR', () => {
    expect(serviceCIDRCondition(pool(['10.96.0.0/24']), []).message).toContain(
      'the cluster has no ServiceCIDR',
    );
  });

  it('builds one CIDR per family for a pool of CIDRs', () => {
    expect(desiredServiceCIDR(pool(['10.250.0.0/24', 'fd00:250::/120']))).toEqual({
      ok: true,
      cidrs: ['10.250.0.0/24', 'fd00:250::/120'],
    });
    // A range that is exactly a CIDR is one.
    expect(desiredServiceCIDR(pool(['10.250.0.0-10.250.0.255']))).toEqual({
      ok: true,
      cidrs: ['10.250.0.0/24'],
    });
  });

  it('refuses, naming the fields, what a ServiceCIDR cannot hold', () => {
    const r = desiredServiceCIDR(pool(['10.250.0.0/24', '10.251.0.0/24', '10.252.0.1-10.252.0.5']));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain('spec.serviceCIDR.create');
    expect(r.message).toContain('spec.addresses[1]: a second IPv4 entry');
    expect(r.message).toContain('spec.addresses[2]: "10.252.0.1-10.252.0.5" is not a CIDR');
  });

  it('names the ServiceCIDR after namespace and pool, and compares CIDR lists canonically', () => {
    expect(serviceCIDRName('portico-system', 'tenant')).toBe('portico.portico-system.tenant');
    expect(sameCIDRs(['fd00:250:0::/120', '10.250.0.0/24'], ['10.250.0.0/24', 'fd00:250::/120'])).toBe(true);
    expect(sameCIDRs(['10.250.0.0/24'], ['10.250.0.0/25'])).toBe(false);
  });
});
