import { describe, expect, it } from '@jest/globals';
import { ALL_CRDS, validateIPReservation } from '../../../crds/index.ts';

describe('IPReservation CRD', () => {
  const spec = { serviceNamespace: 'default', serviceName: 'web', pool: 'p', ips: ['10.0.0.1', 'fd00::1'] };
  it('accepts what the controller writes', () => {
    expect(validateIPReservation({ spec }).ok).toBe(true);
    expect(
      validateIPReservation({ spec: { ...spec, serviceUID: 'u', releasedAt: '2026-06-01T00:00:00Z' } }).ok,
    ).toBe(true);
  });
  it('rejects bad addresses and names, naming the field', () => {
    const r = validateIPReservation({ spec: { ...spec, serviceName: 'Web', ips: ['10.0.0.256'] } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path).sort()).toEqual(['spec.ips[0]', 'spec.serviceName']);
  });
  it('is one of the CRDs the operator requires', () => {
    expect(ALL_CRDS.map((c) => c.name)).toContain('ipreservations.portico.io');
  });
});
