import { describe, expect, it } from '@jest/globals';
import { decide } from '../../../operator/controllers/loadbalancer/decide.ts';
import type { DecideInput } from '../../../operator/controllers/loadbalancer/decide.ts';
import type { ReservationObject } from '../../../operator/controllers/loadbalancer/reservation.ts';
import type { ServiceObject } from '../../../operator/controllers/loadbalancer/service.ts';
import { allocator, CLASSES, HOUR, mkPool, svc } from './helpers.ts';

function run(
  alloc: DecideInput['allocator'],
  now: number,
  key: string,
  service: ServiceObject | undefined,
  reservation?: ReservationObject,
  holdMs = 24 * HOUR,
) {
  return decide({
    key,
    service,
    namespaceLabels: {},
    classes: CLASSES,
    allocator: alloc,
    reservation,
    holdMs,
    nowMs: now,
  });
}

describe('decide: Services of ours', () => {
  it('assigns, publishes, annotates and records a reservation', () => {
    const { alloc, clock } = allocator();
    const d = run(alloc, clock.now(), 'ns/a', svc('a'));
    expect(d.result).toMatchObject({ ok: true, ips: ['10.0.0.0'], pool: 'p' });
    expect(d.status?.ips).toEqual(['10.0.0.0']);
    expect(d.status?.condition).toMatchObject({ status: 'True', reason: 'IPAllocated' });
    expect(d.poolAnnotation).toBe('p');
    expect(d.reservation).toEqual({
      serviceNamespace: 'ns',
      serviceName: 'a',
      serviceUID: 'uid-a',
      pool: 'p',
      ips: ['10.0.0.0'],
    });
    expect(d).toMatchObject({ changed: true, freed: false, waitingForRoom: false });
  });

  it('is idempotent', () => {
    const { alloc, clock } = allocator();
    run(alloc, clock.now(), 'ns/a', svc('a'));
    const again = run(alloc, clock.now(), 'ns/a', svc('a', { ingress: ['10.0.0.0'] }));
    expect(again).toMatchObject({ changed: false, freed: false, poolAnnotation: 'p' });
    expect(again.status?.ips).toEqual(['10.0.0.0']);
  });

  it('clears the ingress and waits for room when the pool is exhausted', () => {
    const { alloc, clock } = allocator([mkPool('p', { addresses: ['10.0.0.1/32'] })]);
    run(alloc, clock.now(), 'ns/a', svc('a'));
    const d = run(alloc, clock.now(), 'ns/b', svc('b', { ingress: ['10.0.0.9'] }));
    expect(d.result).toMatchObject({ ok: false, reason: 'PoolExhausted' });
    expect(d.status).toMatchObject({ ips: [], condition: { status: 'False', reason: 'PoolExhausted' } });
    expect(d.poolAnnotation).toBeNull();
    expect(d.waitingForRoom).toBe(true);
    expect(d.reservation).toBeUndefined();
  });

  it('keeps the addresses of a Service whose request became malformed', () => {
    const { alloc, clock } = allocator();
    run(alloc, clock.now(), 'ns/a', svc('a'));
    const bad = svc('a', {
      loadBalancerIP: '10.0.0.1',
      annotations: { 'portico.io/loadBalancerIPs': '10.0.0.2' },
    });
    const d = run(alloc, clock.now(), 'ns/a', bad);
    expect(d.invalid).toMatchObject({ reason: 'InvalidRequest' });
    expect(d.status?.ips).toEqual(['10.0.0.0']);
    expect(d.status?.condition).toMatchObject({ status: 'False', reason: 'InvalidRequest' });
    expect(d.waitingForRoom).toBe(false);
  });

  it('names the Service holding a requested address', () => {
    const { alloc, clock } = allocator();
    run(alloc, clock.now(), 'ns/a', svc('a', { loadBalancerIP: '10.0.0.2' }));
    const d = run(alloc, clock.now(), 'ns/b', svc('b', { loadBalancerIP: '10.0.0.2' }));
    expect(d.result).toMatchObject({ ok: false, reason: 'IPInUse', conflictsWith: ['ns/a'] });
    expect(d.status?.condition?.message).toMatch(/ns\/a/);
  });

  it('reports MetalLB annotation aliases', () => {
    const { alloc, clock } = allocator();
    const d = run(alloc, clock.now(), 'ns/a', svc('a', { annotations: { 'metallb.io/address-pool': 'p' } }));
    expect(d.aliases).toEqual([{ key: 'metallb.io/address-pool', suggested: 'portico.io/address-pool' }]);
  });
});

describe('decide: Services that go away', () => {
  it('keeps a deleted Service its addresses for the hold time, then lets go', () => {
    const { alloc, clock } = allocator();
    const first = run(alloc, clock.now(), 'ns/a', svc('a'));
    const stored = { metadata: {}, spec: first.reservation };
    const gone = run(alloc, clock.now(), 'ns/a', undefined, stored);
    expect(gone).toMatchObject({ freed: true, changed: true, requeueAfterMs: 24 * HOUR });
    expect(gone.status).toBeUndefined();
    expect(gone.reservation).toMatchObject({
      ips: ['10.0.0.0'],
      releasedAt: '2026-06-01T00:00:00Z',
      serviceUID: 'uid-a',
    });
    // Another Service does not get the held address...
    expect(run(alloc, clock.now(), 'ns/b', svc('b')).result).toMatchObject({ ips: ['10.0.0.1'] });
    // ...and the same name, re-created, does.
    clock.advance(HOUR);
    const back = run(alloc, clock.now(), 'ns/a', svc('a', { uid: 'uid-a2' }), {
      metadata: {},
      spec: gone.reservation,
    });
    expect(back.result).toMatchObject({ ok: true, ips: ['10.0.0.0'], source: 'reservation' });
    expect(back.reservation).toMatchObject({ serviceUID: 'uid-a2' });
    expect(back.reservation?.releasedAt).toBeUndefined();
  });

  it('deletes the reservation after the hold time', () => {
    const { alloc, clock } = allocator(undefined, HOUR);
    const first = run(alloc, clock.now(), 'ns/a', svc('a'), undefined, HOUR);
    const gone = run(alloc, clock.now(), 'ns/a', undefined, { metadata: {}, spec: first.reservation }, HOUR);
    clock.advance(HOUR);
    const later = run(alloc, clock.now(), 'ns/a', undefined, { metadata: {}, spec: gone.reservation }, HOUR);
    expect(later.reservation).toBeUndefined();
    expect(later.freed).toBe(true);
    expect(later.requeueAfterMs).toBeUndefined();
  });

  it('releases for good and clears the status on a change of type', () => {
    const { alloc, clock } = allocator();
    const first = run(alloc, clock.now(), 'ns/a', svc('a'));
    const s = svc('a', {
      type: 'ClusterIP',
      ingress: ['10.0.0.0'],
      annotations: { 'portico.io/ip-pool': 'p' },
    });
    const d = run(alloc, clock.now(), 'ns/a', s, { metadata: {}, spec: first.reservation });
    expect(d).toMatchObject({ freed: true, poolAnnotation: null, status: { ips: [], condition: undefined } });
    expect(d.reservation).toBeUndefined();
    expect(alloc.reservation('ns/a')).toBeUndefined();
  });

  it('does not touch a Service of another class it never served', () => {
    const { alloc, clock } = allocator();
    const d = run(
      alloc,
      clock.now(),
      'ns/a',
      svc('a', { class: 'example.com/other', ingress: ['192.0.2.1'] }),
    );
    expect(d.status).toBeUndefined();
    expect(d.poolAnnotation).toBeUndefined();
  });

  it("keeps an older incarnation's reservation when a same-named non-LoadBalancer Service appears", () => {
    const { alloc, clock } = allocator();
    const first = run(alloc, clock.now(), 'ns/a', svc('a'));
    const gone = run(alloc, clock.now(), 'ns/a', undefined, { metadata: {}, spec: first.reservation });
    const d = run(alloc, clock.now(), 'ns/a', svc('a', { uid: 'new', type: 'ClusterIP' }), {
      metadata: {},
      spec: gone.reservation,
    });
    expect(d.reservation).toMatchObject({ ips: ['10.0.0.0'], serviceUID: 'uid-a' });
  });

  it('does not reserve when sticky IPs are off', () => {
    const { alloc, clock } = allocator(undefined, 0);
    run(alloc, clock.now(), 'ns/a', svc('a'), undefined, 0);
    const gone = run(alloc, clock.now(), 'ns/a', undefined, undefined, 0);
    expect(gone.reservation).toBeUndefined();
    expect(run(alloc, clock.now(), 'ns/b', svc('b'), undefined, 0).result).toMatchObject({
      ips: ['10.0.0.0'],
    });
  });
});
