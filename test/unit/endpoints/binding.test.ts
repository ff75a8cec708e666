import { describe, expect, it } from '@jest/globals';
import { bindServiceBackends, bindingMessage } from '../../../operator/controllers/endpoints/binding.ts';
import type { ServiceLike } from '../../../operator/controllers/endpoints/binding.ts';

const service = (spec: ServiceLike['spec']): ServiceLike => ({
  metadata: { name: 'web', namespace: 'ns' },
  spec,
});
const web = service({
  type: 'ClusterIP',
  ports: [
    { name: 'http', port: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ],
});
const sb = (spec: Record<string, unknown>) => ({
  metadata: { name: 'web', namespace: 'ns' },
  spec: {
    serviceName: 'web',
    backends: [{ ip: '192.0.2.1' }],
    ports: [{ name: 'http', port: 8080 }],
    ...spec,
  },
});

describe('bindServiceBackends', () => {
  it('maps ports by name onto the Service ports', () => {
    const b = bindServiceBackends(
      sb({
        ports: [
          { name: 'http', port: 8080 },
          { name: 'dns', port: 5353, protocol: 'UDP' },
        ],
      }),
      web,
    );
    expect(b).toMatchObject({
      ok: true,
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'dns', port: 5353, protocol: 'UDP' },
      ],
    });
    expect(b.ok && b.probe).toBeUndefined();
  });

  it('lets an unnamed port stand for the only Service port, taking its name and appProtocol', () => {
    const svc = service({ ports: [{ name: 'web', port: 80, appProtocol: 'http' }] });
    const b = bindServiceBackends(sb({ ports: [{ port: 8080 }] }), svc);
    expect(b).toMatchObject({
      ok: true,
      ports: [{ name: 'web', port: 8080, protocol: 'TCP', appProtocol: 'http' }],
    });
  });

  it('flags an unknown Service, naming spec.serviceName', () => {
    const b = bindServiceBackends(sb({}), undefined);
    expect(b).toMatchObject({ ok: false, reason: 'ServiceNotFound' });
    expect(bindingMessage(b)).toBe('spec.serviceName: Service "web" not found in namespace "ns"');
  });

  it('flags a Service with a selector', () => {
    const b = bindServiceBackends(
      sb({}),
      service({ selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] }),
    );
    expect(b).toMatchObject({ ok: false, reason: 'ServiceHasSelector' });
    expect(bindingMessage(b)).toMatch(/^spec\.serviceName: Service "web" has a selector/);
  });

  it('accepts an empty selector as no selector', () => {
    expect(
      bindServiceBackends(sb({}), service({ selector: {}, ports: [{ name: 'http', port: 80 }] })).ok,
    ).toBe(true);
  });

  it('flags an ExternalName Service', () => {
    const b = bindServiceBackends(sb({}), service({ type: 'ExternalName', externalName: 'x.example' }));
    expect(b).toMatchObject({ ok: false, reason: 'ExternalNameService' });
  });

  it('flags a port name the Service does not have, naming the field and listing the Service ports', () => {
    const b = bindServiceBackends(
      sb({
        ports: [
          { name: 'http', port: 1 },
          { name: 'grpc', port: 9090 },
        ],
      }),
      web,
    );
    expect(b).toMatchObject({ ok: false, reason: 'UnknownPort' });
    expect(bindingMessage(b)).toBe(
      'spec.ports[1].name: Service "web" has no port named "grpc" (its ports: "http", "dns")',
    );
  });

  it('flags an unnamed port when the Service has several', () => {
    const b = bindServiceBackends(sb({ ports: [{ port: 1 }] }), web);
    expect(bindingMessage(b)).toMatch(
      /^spec\.ports\[0\]: an unnamed port needs a Service with exactly one port/,
    );
  });

  it('flags a protocol that differs from the Service port', () => {
    const b = bindServiceBackends(sb({ ports: [{ name: 'dns', port: 53, protocol: 'TCP' }] }), web);
    expect(bindingMessage(b)).toBe('spec.ports[0].protocol: is TCP but Service port "dns" is UDP');
  });

  it('reports schema errors with their paths (a negative interval)', () => {
    const b = bindServiceBackends(sb({ healthCheck: { interval: '-5s' } }), web);
    expect(b).toMatchObject({ ok: false, reason: 'InvalidSpec' });
    expect(bindingMessage(b)).toMatch(/^spec\.healthCheck\.interval: /);
  });

  it('reports an interval below 1s', () => {
    const b = bindServiceBackends(sb({ healthCheck: { interval: '500ms', timeout: '100ms' } }), web);
    expect(b.ok).toBe(false);
    expect(bindingMessage(b)).toMatch(/spec\.healthCheck\.interval/);
  });

  it('plans health checks with defaults, probing the first port', () => {
    const b = bindServiceBackends(sb({ healthCheck: { type: 'http', path: '/healthz' } }), web);
    expect(b).toMatchObject({
      ok: true,
      probe: {
        type: 'http',
        port: 8080,
        path: '/healthz',
        intervalMs: 10_000,
        timeoutMs: 3000,
        thresholds: { healthy: 2, unhealthy: 3 },
      },
    });
  });

  it('probes a port given by number or by name', () => {
    const ports = [
      { name: 'http', port: 8080 },
      { name: 'dns', port: 5353, protocol: 'UDP' },
    ];
    const byNumber = bindServiceBackends(sb({ ports, healthCheck: { port: 9000 } }), web);
    expect(byNumber.ok && byNumber.probe?.port).toBe(9000);
    const byName = bindServiceBackends(sb({ ports, healthCheck: { port: 'dns' } }), web);
    expect(byName.ok && byName.probe?.port).toBe(5353);
  });

  it('flags a health-check port name that is not in spec.ports', () => {
    const b = bindServiceBackends(sb({ healthCheck: { port: 'admin' } }), web);
    expect(b).toMatchObject({ ok: false, reason: 'InvalidHealthCheck' });
    expect(bindingMessage(b)).toBe('spec.healthCheck.port: no entry of spec.ports is named "admin"');
  });
});
