// The TypeScript twin of the CRD rule on spec.backends[].ip (Kubernetes'
// ValidateEndpointIP): addresses an EndpointSlice would refuse.
import { describe, expect, it } from '@jest/globals';
import { publishableIP, validateServiceBackends } from '../../../crds/index.ts';

describe('publishableIP', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '0.0.0.0',
    '169.254.10.1',
    '224.0.0.251',
    '::1',
    '::',
    'fe80::1',
    'febf::1',
    'ff02::1',
    'ff12::2',
  ])('%s is refused', (ip) => expect(publishableIP(ip)).toBe(false));

  it.each([
    '10.0.0.1',
    '192.0.2.1',
    '224.0.1.1',
    '239.0.0.1',
    '2001:db8::1',
    'fec0::1',
    'ff05::2',
    'not-an-ip',
  ])('%s is accepted (or left to the isIP rule)', (ip) => expect(publishableIP(ip)).toBe(true));

  it('rejects such a backend with the field named', () => {
    const r = validateServiceBackends({
      spec: { serviceName: 'web', backends: [{ ip: '192.0.2.1' }, { ip: 'fe80::5' }], ports: [{ port: 80 }] },
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map((e) => e.path)).toEqual(['spec.backends[1].ip']);
  });
});
