// Portico's own kinds: NodePortPool and ServiceBackends.
import { describe, expect, it } from '@jest/globals';
import { validateNodePortPool, validateServiceBackends } from '../../../crds/index.ts';
import type { ValidationResult } from '../../../crds/index.ts';

function paths(r: ValidationResult<unknown>): string[] {
  if (r.ok) throw new Error('expected the object to be rejected');
  return r.errors.map((e) => e.path);
}

describe('NodePortPool', () => {
  it('accepts ports and ranges inside 30000-32767 with serviceAllocation', () => {
    const r = validateNodePortPool({
      spec: { ports: ['30080', '31000-31999'], serviceAllocation: { namespaces: ['web'], priority: 1 } },
    });
    expect(r.ok).toBe(true);
  });

  it('names each bad entry', () => {
    expect(
      paths(
        validateNodePortPool({ spec: { ports: ['30080', '29999', '32000-31000', '3a', '30000-40000'] } }),
      ),
    ).toEqual(['spec.ports[1]', 'spec.ports[2]', 'spec.ports[3]', 'spec.ports[4]']);
    expect(paths(validateNodePortPool({ spec: { ports: [] } }))).toEqual(['spec.ports']);
    expect(paths(validateNodePortPool({ spec: { ports: [30080] } }))).toEqual(['spec.ports[0]']);
  });
});

describe('ServiceBackends', () => {
  const base = {
    serviceName: 'external-db',
    backends: [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }, { hostname: 'db.example.com' }],
    ports: [{ name: 'pg', port: 5432 }],
  };

  it('accepts backends and fills health-check defaults', () => {
    const r = validateServiceBackends({
      spec: { ...base, healthCheck: { type: 'http', path: '/healthz', port: 'pg' } },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.value.spec.ports[0]?.protocol).toBe('TCP');
    expect(r.value.spec.healthCheck).toEqual({
      type: 'http',
      path: '/healthz',
      port: 'pg',
      interval: '10s',
      timeout: '3s',
      healthyThreshold: 2,
      unhealthyThreshold: 3,
    });
  });

  it('rejects a backend with both or neither of ip and hostname', () => {
    expect(
      paths(
        validateServiceBackends({ spec: { ...base, backends: [{ ip: '10.0.0.1', hostname: 'a' }, {}] } }),
      ),
    ).toEqual(['spec.backends[0]', 'spec.backends[1]']);
  });

  it('rejects bad ports and health checks, naming the field', () => {
    expect(
      paths(
        validateServiceBackends({
          spec: { ...base, ports: [{ port: 80 }, { name: 'b', port: 443 }] },
        }),
      ),
    ).toEqual(['spec.ports']);
    expect(
      paths(validateServiceBackends({ spec: { ...base, healthCheck: { type: 'tcp', path: '/x' } } })),
    ).toEqual(['spec.healthCheck.path']);
    expect(
      paths(validateServiceBackends({ spec: { ...base, healthCheck: { interval: '5s', timeout: '10s' } } })),
    ).toEqual(['spec.healthCheck.timeout']);
    expect(paths(validateServiceBackends({ spec: { ...base, healthCheck: { port: 70000 } } }))).toEqual([
      'spec.healthCheck.port',
    ]);
    expect(paths(validateServiceBackends({ spec: { ...base, serviceName: 'Bad_Name' } }))).toEqual([
      'spec.serviceName',
    ]);
  });
});
