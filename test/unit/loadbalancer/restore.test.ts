import { describe, expect, it } from '@jest/globals';
import { restoreOrder, restoreState } from '../../../operator/controllers/loadbalancer/restore.ts';
import type { ReservationObject } from '../../../operator/controllers/loadbalancer/reservation.ts';
import type { ServiceObject } from '../../../operator/controllers/loadbalancer/service.ts';
import { allocator, CLASSES, HOUR } from './helpers.ts';
import { svc } from './helpers.ts';

function restore(services: ServiceObject[], reservations: ReservationObject[] = []) {
  const { alloc, clock } = allocator();
  const report = restoreState({
    allocator: alloc,
    services,
    reservations,
    namespaceLabels: () => ({}),
    classes: CLASSES,
    nowMs: clock.now(),
    holdMs: 24 * HOUR,
  });
  return { alloc, clock, report };
}

describe('start-up restore', () => {
  it('re-admits what Service status shows, only for Services of ours', () => {
    const { alloc, report } = restore([
      svc('a', { ingress: ['10.0.0.2'] }),
      svc('b', {
        ingress: ['10.0.0.1', 'fd00::1'],
        ipFamilies: ['IPv4', 'IPv6'],
        ipFamilyPolicy: 'RequireDualStack',
      }),
      svc('c', { class: 'example.com/other', ingress: ['10.0.0.3'] }),
      svc('d'),
    ]);
    expect(report).toMatchObject({ restored: 2, failures: [] });
    expect(alloc.get('ns/a')?.ips).toEqual(['10.0.0.2']);
    expect(alloc.get('ns/b')?.ips).toEqual(['10.0.0.1', 'fd00::1']);
    expect(alloc.get('ns/c')).toBeUndefined();
  });

  it('keeps the older of two Services claiming one address and reports the other', () => {
    const { alloc, report } = restore([
      svc('young', { ingress: ['10.0.0.1'], created: '2026-01-02T00:00:00Z' }),
      svc('old', { ingress: ['10.0.0.1'], created: '2026-01-01T00:00:00Z' }),
    ]);
    expect(alloc.usersOf('10.0.0.1')).toEqual(['ns/old']);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]?.service.metadata.name).toBe('young');
    expect(report.failures[0]?.failure).toMatchObject({ reason: 'IPInUse', conflictsWith: ['ns/old'] });
  });

  it('lets Services that may share keep a shared address', () => {
    const shared = { 'portico.io/allow-shared-ip': 'k' };
    const { report } = restore([
      svc('a', { ingress: ['10.0.0.1'], annotations: shared, ports: [{ port: 80 }] }),
      svc('b', { ingress: ['10.0.0.1'], annotations: shared, ports: [{ port: 443 }] }),
    ]);
    expect(report).toMatchObject({ restored: 2, failures: [] });
  });

  it('reports an address that is in no pool any more', () => {
    const { report } = restore([svc('a', { ingress: ['192.0.2.1'] })]);
    expect(report.failures[0]?.failure.reason).toBe('RequestedIPNotInPool');
  });

  it('loads reservations, and an announced address wins over a held one', () => {
    const held = (name: string, ip: string, releasedAt?: string): ReservationObject => ({
      metadata: {},
      spec: {
        serviceNamespace: 'ns',
        serviceName: name,
        pool: 'p',
        ips: [ip],
        ...(releasedAt ? { releasedAt } : {}),
      },
    });
    const { alloc, report } = restore(
      [svc('live', { ingress: ['10.0.0.1'] })],
      [
        held('gone', '10.0.0.2', '2026-05-31T12:00:00Z'),
        held('stale', '10.0.0.1'),
        held('old', '10.0.0.3', '2026-05-01T00:00:00Z'),
      ],
    );
    expect(report.restored).toBe(1);
    expect(alloc.reservations().map((r) => [r.service, r.ips])).toEqual([['ns/gone', ['10.0.0.2']]]);
    expect(alloc.reservation('ns/gone')?.expiresAt).toBe(Date.parse('2026-06-01T12:00:00Z'));
  });

  it('orders by creation time, then key', () => {
    const order = restoreOrder([
      svc('b', { created: '2026-01-01T00:00:00Z' }),
      svc('a', { created: '2026-01-01T00:00:00Z' }),
      svc('c', { created: '2025-12-31T00:00:00Z' }),
    ]).map((s) => s.metadata.name);
    expect(order).toEqual(['c', 'a', 'b']);
  });
});
