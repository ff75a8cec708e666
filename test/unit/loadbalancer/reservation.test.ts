import { describe, expect, it } from '@jest/globals';
import {
  desiredReservation,
  formatReleasedAt,
  reservationName,
  reservationServiceKey,
  specPatch,
  toImport,
} from '../../../operator/controllers/loadbalancer/reservation.ts';
import { HOUR } from './helpers.ts';

describe('reservation names', () => {
  it('is <namespace>.<name> for every valid Service', () => {
    expect(reservationName('default', 'web')).toBe('default.web');
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}`;
    expect(reservationName('a'.repeat(63), 'b'.repeat(63))).toBe(long);
  });
  it('falls back to a stable hash for anything else', () => {
    const n = reservationName('Bad_NS', 'x.y');
    expect(n).toMatch(/^svc-[0-9a-f]{40}$/);
    expect(reservationName('Bad_NS', 'x.y')).toBe(n);
    expect(reservationName('a.b', 'c')).not.toBe(reservationName('a', 'b.c'));
  });
  it('maps an object back to its Service key', () => {
    expect(reservationServiceKey({ metadata: {}, spec: { serviceNamespace: 'ns', serviceName: 'a' } })).toBe(
      'ns/a',
    );
    expect(reservationServiceKey({ metadata: {}, spec: {} })).toBeUndefined();
  });
});

describe('reading reservations back', () => {
  const base = { serviceNamespace: 'ns', serviceName: 'a', pool: 'p', ips: ['10.0.0.1'] };
  const now = Date.parse('2026-06-01T12:00:00Z');
  it('expires a hold time after releasedAt', () => {
    expect(
      toImport({ metadata: {}, spec: { ...base, releasedAt: '2026-06-01T11:00:00Z' } }, now, 24 * HOUR),
    ).toEqual({ service: 'ns/a', ips: ['10.0.0.1'], pool: 'p', expiresAt: now - HOUR + 24 * HOUR });
  });
  it('counts from now while the Service was still there at the last write', () => {
    expect(toImport({ metadata: {}, spec: base }, now, HOUR)?.expiresAt).toBe(now + HOUR);
  });
  it('skips malformed objects', () => {
    expect(toImport({ metadata: {}, spec: { ...base, ips: [] } }, now, HOUR)).toBeUndefined();
    expect(toImport({ metadata: {} }, now, HOUR)).toBeUndefined();
  });
  it('formats releasedAt as metav1.Time', () => {
    expect(formatReleasedAt(Date.parse('2026-06-01T11:00:00.789Z'))).toBe('2026-06-01T11:00:00Z');
  });
});

describe('what a reservation object should hold', () => {
  const assignment = {
    service: 'ns/a',
    pool: 'p',
    ips: ['10.0.0.1'],
    sharingKey: 'k',
    backendKey: '',
    ports: [],
  };
  const args = { service: 'ns/a', serviceUID: 'u1', existing: undefined, holdMs: HOUR };
  it('mirrors a live assignment, without releasedAt', () => {
    expect(desiredReservation({ ...args, assignment, reservation: undefined })).toEqual({
      serviceNamespace: 'ns',
      serviceName: 'a',
      serviceUID: 'u1',
      pool: 'p',
      ips: ['10.0.0.1'],
      sharingKey: 'k',
    });
  });
  it('mirrors a held reservation, keeping the first releasedAt', () => {
    const reservation = {
      service: 'ns/a',
      ips: ['10.0.0.1'],
      pool: 'p',
      expiresAt: Date.parse('2026-06-01T13:00:00Z'),
    };
    expect(desiredReservation({ ...args, assignment: undefined, reservation })).toMatchObject({
      releasedAt: '2026-06-01T12:00:00Z',
    });
    const existing = {
      metadata: {},
      spec: { serviceUID: 'old', releasedAt: '2026-06-01T11:59:00Z', sharingKey: 'k' },
    };
    expect(desiredReservation({ ...args, assignment: undefined, reservation, existing })).toMatchObject({
      serviceUID: 'old',
      sharingKey: 'k',
      releasedAt: '2026-06-01T11:59:00Z',
    });
  });
  it('wants no object when nothing is held or sticky IPs are off', () => {
    expect(desiredReservation({ ...args, assignment: undefined, reservation: undefined })).toBeUndefined();
    expect(desiredReservation({ ...args, assignment, reservation: undefined, holdMs: 0 })).toBeUndefined();
  });
});

describe('reservation patches', () => {
  const desired = { serviceNamespace: 'ns', serviceName: 'a', pool: 'p', ips: ['10.0.0.1'] };
  it('is empty when the stored spec already agrees', () => {
    expect(specPatch({ ...desired }, desired)).toBeUndefined();
  });
  it('sets changed fields and clears dropped ones with null', () => {
    expect(
      specPatch(
        { ...desired, ips: ['10.0.0.2'], releasedAt: '2026-06-01T00:00:00Z', serviceUID: 'u' },
        {
          ...desired,
          serviceUID: 'v',
        },
      ),
    ).toEqual({ ips: ['10.0.0.1'], releasedAt: null, serviceUID: 'v' });
  });
});
