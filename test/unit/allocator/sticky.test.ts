import { describe, expect, it } from '@jest/globals';
import { IPAllocator } from '../../../operator/allocator/assign.ts';
import {
  DEFAULT_STICKY_HOLD_MS,
  parseReservation,
  ReservationBook,
} from '../../../operator/allocator/sticky.ts';
import { clock, dual, expectOk, mkPool, v4 } from './helpers.ts';

const HOUR = 60 * 60 * 1000;

function setup(pools = [mkPool('p', { addresses: ['10.0.0.0/30', 'fd00::/126'] })], holdMs?: number) {
  const c = clock();
  const a = new IPAllocator({ now: c.now, ...(holdMs !== undefined ? { stickyHoldMs: holdMs } : {}) });
  a.setPools(pools);
  return { a, c };
}

describe('sticky reservations', () => {
  it('gives a re-created Service its old address back', () => {
    const { a, c } = setup();
    expectOk(a.assign(v4('ns/a')));
    expect(expectOk(a.assign(v4('ns/b'))).ips).toEqual(['10.0.0.1']);
    const rel = a.release('ns/b');
    expect(rel?.reservation).toEqual({
      service: 'ns/b',
      ips: ['10.0.0.1'],
      pool: 'p',
      expiresAt: c.now() + DEFAULT_STICKY_HOLD_MS,
    });
    c.advance(HOUR);
    // Another Service does not take the reserved address...
    expect(expectOk(a.assign(v4('ns/c'))).ips).toEqual(['10.0.0.2']);
    // ...and the owner gets it back although a lower one is free after a.
    a.release('ns/a', { keepReservation: false });
    const back = expectOk(a.assign(v4('ns/b')));
    expect(back).toMatchObject({ ips: ['10.0.0.1'], source: 'reservation' });
    expect(a.reservations()).toEqual([]); // consumed
  });

  it('lets an exhausted pool stay exhausted rather than steal a reserved address', () => {
    const { a } = setup([mkPool('p', { addresses: ['10.0.0.0/31'] })]);
    expectOk(a.assign(v4('ns/a')));
    expectOk(a.assign(v4('ns/b')));
    a.release('ns/b');
    const f = a.assign(v4('ns/c'));
    expect(f.ok).toBe(false);
    if (!f.ok) expect(f.reason).toBe('PoolExhausted');
    expect(a.counts()[0]?.IPv4).toEqual({ total: 2n, assigned: 1n, reserved: 1n, available: 0n });
  });

  it('lets an explicit request take a reserved address and drops it from the reservation', () => {
    const { a } = setup();
    expectOk(a.assign(dual('ns/a', 'RequireDualStack')));
    a.release('ns/a');
    const r = expectOk(a.assign(v4('ns/x', { requestedIPs: ['10.0.0.0'] })));
    expect(r.droppedReservations).toEqual(['ns/a']);
    expect(a.reservations()).toEqual([expect.objectContaining({ service: 'ns/a', ips: ['fd00::'] })]);
    // The owner comes back PreferDualStack: keeps its IPv6, gets a new IPv4 from the same pool.
    expect(expectOk(a.assign(dual('ns/a', 'PreferDualStack')))).toMatchObject({
      ips: ['10.0.0.1', 'fd00::'],
      source: 'reservation',
    });
  });

  it('expires after the hold time', () => {
    const { a, c } = setup(undefined, 2 * HOUR);
    expectOk(a.assign(v4('ns/a')));
    a.release('ns/a');
    c.advance(2 * HOUR - 1);
    expect(expectOk(a.assign(v4('ns/other'))).ips).toEqual(['10.0.0.1']);
    c.advance(1);
    expect(expectOk(a.assign(v4('ns/other2'))).ips).toEqual(['10.0.0.0']);
    expect(a.reservations()).toEqual([]);
    expect(expectOk(a.assign(v4('ns/a'))).source).toBe('auto');
  });

  it('is off without a clock or with a hold time of 0', () => {
    const plain = new IPAllocator();
    plain.setPools([mkPool('p', { addresses: ['10.0.0.0/30'] })]);
    expectOk(plain.assign(v4('ns/a')));
    expect(plain.release('ns/a')?.reservation).toBeUndefined();
    expect(
      plain.importReservations([{ service: 'ns/a', ips: ['10.0.0.0'], pool: 'p', expiresAt: 1 }]),
    ).toEqual([]);
    const { a } = setup(undefined, 0);
    expectOk(a.assign(v4('ns/a')));
    expect(a.release('ns/a')?.reservation).toBeUndefined();
    expect(expectOk(a.assign(v4('ns/b'))).ips).toEqual(['10.0.0.0']);
  });

  it('is not used when the pool no longer admits the Service, and is consumed by the new assignment', () => {
    const { a } = setup([
      mkPool('web', {
        addresses: ['10.0.0.0/30'],
        serviceAllocation: { serviceSelectors: [{ matchLabels: { app: 'web' } }] },
      }),
      mkPool('plain', { addresses: ['10.0.1.0/30'] }),
    ]);
    expectOk(a.assign(v4('ns/a', { serviceLabels: { app: 'web' } })));
    a.release('ns/a');
    const r = expectOk(a.assign(v4('ns/a', { serviceLabels: { app: 'db' } })));
    expect(r).toMatchObject({ pool: 'plain', source: 'auto' });
    expect(a.reservations()).toEqual([]);
  });

  it('is not used when another pool is requested, nor for another family', () => {
    const { a } = setup([
      mkPool('p', { addresses: ['10.0.0.0/30', 'fd00::/126'] }),
      mkPool('q', { addresses: ['10.0.1.0/30'] }),
    ]);
    expectOk(a.assign(v4('ns/a')));
    a.release('ns/a');
    expect(expectOk(a.assign(v4('ns/a', { pool: 'q' }))).ips).toEqual(['10.0.1.0']);
    a.release('ns/a');
    a.release('ns/none');
    expectOk(a.assign(v4('ns/b')));
    a.release('ns/b');
    expect(expectOk(a.assign({ service: 'ns/b', ipFamilies: ['IPv6'] })).source).toBe('auto');
  });

  it('is used with the requested pool when it matches', () => {
    const { a } = setup([
      mkPool('manual', { addresses: ['10.0.0.0/30'], autoAssign: false }),
      mkPool('q', { addresses: ['10.0.1.0/30'] }),
    ]);
    expectOk(a.assign(v4('ns/a', { requestedIPs: ['10.0.0.2'] })));
    a.release('ns/a');
    // autoAssign false does not stop the owner from getting its address back.
    expect(expectOk(a.assign(v4('ns/a')))).toMatchObject({ ips: ['10.0.0.2'], source: 'reservation' });
    a.release('ns/a', { keepReservation: false });
    expectOk(a.assign(v4('ns/b', { requestedIPs: ['10.0.0.2'] })));
    a.release('ns/b');
    expect(expectOk(a.assign(v4('ns/b', { pool: 'manual' })))).toMatchObject({
      ips: ['10.0.0.2'],
      source: 'reservation',
    });
  });

  it('survives a restart through export and import', () => {
    const { a, c } = setup();
    expectOk(a.assign(v4('ns/a')));
    expectOk(a.assign(v4('ns/b')));
    a.release('ns/a');
    const saved = JSON.parse(JSON.stringify(a.reservations())) as unknown[];
    const after = new IPAllocator({ now: c.now });
    after.setPools(a.pools());
    expectOk(after.restore('ns/b', ['10.0.0.1']));
    expect(after.importReservations([...saved, { service: 'bad' }])).toEqual([
      { path: 'reservations[1].service', message: '"bad" is not a namespace/name key' },
      { path: 'reservations[1].pool', message: 'must be a string' },
      { path: 'reservations[1].expiresAt', message: 'must be a number of epoch milliseconds' },
      { path: 'reservations[1].ips', message: 'must be a list of addresses' },
    ]);
    expect(expectOk(after.assign(v4('ns/new'))).ips).toEqual(['10.0.0.2']);
    expect(expectOk(after.assign(v4('ns/a'))).ips).toEqual(['10.0.0.0']);
  });

  it('a restore wins over a reservation', () => {
    const { a } = setup();
    expectOk(a.assign(v4('ns/a')));
    a.release('ns/a');
    expect(expectOk(a.restore('ns/b', ['10.0.0.0'])).droppedReservations).toEqual(['ns/a']);
  });

  it('keeps the reservation of a shared address for its owner only', () => {
    const { a } = setup();
    const tcp = (port: number) => [{ protocol: 'TCP' as const, port }];
    expectOk(a.assign(v4('ns/a', { sharingKey: 'k', ports: tcp(80) })));
    expectOk(a.assign(v4('ns/b', { sharingKey: 'k', ports: tcp(81) })));
    a.release('ns/a');
    // A third sharer does not join the reserved address automatically.
    expect(expectOk(a.assign(v4('ns/c', { sharingKey: 'k', ports: tcp(82) }))).ips).toEqual(['10.0.0.1']);
    expect(expectOk(a.assign(v4('ns/a', { sharingKey: 'k', ports: tcp(80) })))).toMatchObject({
      ips: ['10.0.0.0'],
      source: 'reservation',
      sharedWith: ['ns/b'],
    });
  });
});

describe('ReservationBook', () => {
  it('keeps, finds, expires and drops reservations', () => {
    const book = new ReservationBook();
    book.reserve({ service: 'ns/a', ips: ['10.0.0.1', 'fd00::1'], pool: 'p', expiresAt: 100 });
    book.reserve({ service: 'ns/b', ips: ['10.0.0.1'], pool: 'p', expiresAt: 200 });
    expect(book.size).toBe(2);
    expect(book.get('ns/a', 99)?.ips).toEqual(['10.0.0.1', 'fd00::1']);
    expect(book.get('ns/a', 100)).toBeUndefined();
    expect(book.holders('10.0.0.1', 50)).toEqual(['ns/a', 'ns/b']);
    expect(book.holders('10.0.0.1', 150)).toEqual(['ns/b']);
    expect(book.reservedSet('IPv4').size()).toBe(1n);
    expect(book.reservedSet('IPv6').size()).toBe(1n);
    expect(book.dropIP('10.0.0.1', 'ns/b')).toEqual(['ns/a']);
    expect(book.get('ns/a', 0)?.ips).toEqual(['fd00::1']);
    expect(book.expire(150).map((r) => r.service)).toEqual(['ns/a']);
    expect(book.dropIP('10.0.0.1')).toEqual(['ns/b']);
    expect(book.size).toBe(0);
    expect(book.reservedSet('IPv4').isEmpty).toBe(true);
  });

  it('replaces a Service reservation and ignores empty ones', () => {
    const book = new ReservationBook();
    book.reserve({ service: 'ns/a', ips: ['10.0.0.1'], pool: 'p', expiresAt: 100 });
    book.reserve({ service: 'ns/a', ips: ['10.0.0.2'], pool: 'p', expiresAt: 100 });
    expect(book.holders('10.0.0.1', 0)).toEqual([]);
    book.reserve({ service: 'ns/a', ips: [], pool: 'p', expiresAt: 100 });
    expect(book.size).toBe(0);
  });

  it('parseReservation canonicalises addresses and names bad fields', () => {
    expect(parseReservation({ service: 'ns/a', ips: ['FD00::0001'], pool: 'p', expiresAt: 5 }, 'r')).toEqual({
      ok: true,
      value: { service: 'ns/a', ips: ['fd00::1'], pool: 'p', expiresAt: 5 },
    });
    const bad = parseReservation({ service: 'ns/a', ips: ['x'], pool: 'p', expiresAt: Infinity }, 'r');
    expect(bad.ok ? [] : bad.error.map((e) => e.path)).toEqual(['r.expiresAt', 'r.ips[0]']);
    expect(parseReservation(7, 'r').ok).toBe(false);
  });
});
