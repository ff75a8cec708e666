import { describe, expect, it } from '@jest/globals';
import {
  allow,
  deny,
  denyInvalid,
  mutate,
  parseAdmissionReview,
  pointerSegment,
  resultLabel,
  reviewResponse,
} from '../../../operator/webhook/admission.ts';

const request = {
  uid: 'u',
  kind: { group: '', version: 'v1', kind: 'Service' },
  resource: { group: '', version: 'v1', resource: 'services' },
  operation: 'CREATE',
  object: { spec: {} },
  someFutureField: true,
};

describe('parseAdmissionReview', () => {
  it('accepts a v1 review and keeps fields it does not know', () => {
    const r = parseAdmissionReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
    expect(r).toEqual({ ok: true, request });
  });

  it.each([
    [null, /body/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'Other', request }, /kind/],
    [
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { ...request, kind: 'x' } },
      /request\.kind/,
    ],
  ])('says what is wrong with %j', (body, message) => {
    const r = parseAdmissionReview(body);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(message);
  });
});

describe('reviewResponse', () => {
  it('answers allow, deny and mutate', () => {
    expect(reviewResponse('u', allow())).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u', allowed: true },
    });
    expect(reviewResponse('u', deny('no')).response).toEqual({
      uid: 'u',
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: 'no' },
    });
    const patched = reviewResponse(
      'u',
      mutate([{ op: 'add', path: '/spec/clusterIP', value: '10.0.0.1' }], ['w']),
    );
    expect(patched.response.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(patched.response.patch ?? '', 'base64').toString())).toEqual([
      { op: 'add', path: '/spec/clusterIP', value: '10.0.0.1' },
    ]);
    expect(patched.response.warnings).toEqual(['w']);
    expect(reviewResponse('u', mutate([])).response).toEqual({ uid: 'u', allowed: true });
  });

  it('lists field errors in the message and as causes', () => {
    const r = denyInvalid([
      { path: 'spec.addresses[0]', message: 'bad' },
      { path: '', message: 'also bad' },
    ]);
    expect(reviewResponse('u', r).response.status).toEqual({
      code: 422,
      reason: 'Invalid',
      message: 'spec.addresses[0]: bad; also bad',
      details: {
        causes: [
          { reason: 'FieldValueInvalid', field: 'spec.addresses[0]', message: 'bad' },
          { reason: 'FieldValueInvalid', field: '', message: 'also bad' },
        ],
      },
    });
  });

  it('labels results for metrics', () => {
    expect(resultLabel(allow())).toBe('allowed');
    expect(resultLabel(mutate([]))).toBe('allowed');
    expect(resultLabel(mutate([{ op: 'remove', path: '/a' }]))).toBe('patched');
    expect(resultLabel(deny('x'))).toBe('denied');
  });

  it('escapes JSON Pointer segments', () => {
    expect(pointerSegment('portico.io/pool')).toBe('portico.io~1pool');
    expect(pointerSegment('a~b')).toBe('a~0b');
    expect(pointerSegment(3)).toBe('3');
  });
});
