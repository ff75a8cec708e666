import { describe, expect, it } from '@jest/globals';
import {
  aliasMessage,
  keysFor,
  readAnnotations,
} from '../../../operator/controllers/loadbalancer/annotations.ts';

describe('Service annotations', () => {
  it('reads the portico.io names without notes', () => {
    const r = readAnnotations({
      'portico.io/loadBalancerIPs': '10.0.0.1',
      'portico.io/address-pool': 'p',
      'portico.io/allow-shared-ip': 'k',
    });
    expect(r.values.loadBalancerIPs).toEqual({
      name: 'loadBalancerIPs',
      key: 'portico.io/loadBalancerIPs',
      value: '10.0.0.1',
    });
    expect(r.values['address-pool']?.value).toBe('p');
    expect(r.values['allow-shared-ip']?.value).toBe('k');
    expect(r.aliases).toEqual([]);
    expect(r.conflicts).toEqual([]);
  });

  it.each(['metallb.io/', 'metallb.universe.tf/'])(
    'accepts %s as an alias and suggests the portico.io name',
    (p) => {
      const r = readAnnotations({ [`${p}address-pool`]: 'cheap' });
      expect(r.values['address-pool']).toMatchObject({ key: `${p}address-pool`, value: 'cheap' });
      expect(r.aliases).toEqual([{ key: `${p}address-pool`, suggested: 'portico.io/address-pool' }]);
      expect(aliasMessage(r.aliases[0]!)).toMatch(/portico\.io\/address-pool/);
    },
  );

  it('lets portico.io win over aliases and reports a disagreement', () => {
    const r = readAnnotations({
      'portico.io/allow-shared-ip': 'a',
      'metallb.io/allow-shared-ip': 'b',
      'metallb.universe.tf/allow-shared-ip': 'a',
    });
    expect(r.values['allow-shared-ip']?.value).toBe('a');
    expect(r.conflicts).toHaveLength(1);
    expect(r.conflicts[0]).toMatchObject({
      used: 'portico.io/allow-shared-ip',
      ignored: 'metallb.io/allow-shared-ip',
    });
    expect(r.conflicts[0]?.message).toMatch(/"b" is ignored/);
    expect(r.aliases.map((a) => a.key)).toEqual([
      'metallb.io/allow-shared-ip',
      'metallb.universe.tf/allow-shared-ip',
    ]);
  });

  it('prefers metallb.io over metallb.universe.tf', () => {
    const r = readAnnotations({
      'metallb.universe.tf/loadBalancerIPs': '10.0.0.2',
      'metallb.io/loadBalancerIPs': '10.0.0.1',
    });
    expect(r.values.loadBalancerIPs?.value).toBe('10.0.0.1');
  });

  it('handles no annotations', () => {
    expect(readAnnotations(undefined)).toEqual({ values: {}, aliases: [], conflicts: [] });
    expect(keysFor('address-pool')).toEqual([
      'portico.io/address-pool',
      'metallb.io/address-pool',
      'metallb.universe.tf/address-pool',
    ]);
  });
});
