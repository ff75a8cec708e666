import { describe, expect, it } from '@jest/globals';
import type { PoolObject } from '../../../operator/controllers/pools/status.ts';
import type { AdmissionRequest, AdmissionResult } from '../../../operator/webhook/admission.ts';
import {
  checkPool,
  poolValidationHandler,
  poolWebhookDefinition,
  valueAt,
  withValue,
} from '../../../operator/webhook/validate-pool.ts';

const NS = 'portico-system';

const pool = (name: string, addresses: string[], created = '2030-01-01T00:00:00Z'): PoolObject => ({
  metadata: { name, creationTimestamp: created },
  spec: { addresses },
});

const messageOf = (r: AdmissionResult) => (r.allowed ? '' : r.status.message);

describe('checkPool', () => {
  it('accepts a valid pool that overlaps nothing', () => {
    expect(checkPool(pool('b', ['10.0.1.0/24']), [pool('a', ['10.0.0.0/24'])], 'b')).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it('names the field and the other pool for an overlap', () => {
    const { errors } = checkPool(
      pool('b', ['10.0.9.0/24', '10.0.0.128/25']),
      [pool('a', ['10.0.0.0/24'])],
      'b',
    );
    expect(errors).toEqual([
      {
        path: 'spec.addresses[1]',
        message: '"10.0.0.128/25" overlaps spec.addresses[0] ("10.0.0.0/24") of IPAddressPool "a"',
      },
    ]);
  });

  it('judges the incoming pool as the newest, even when an older version of it exists', () => {
    // "a" is being changed to overlap "b", which is newer: the change is refused, not "b".
    const existing = [
      pool('a', ['10.0.0.0/24'], '2030-01-01T00:00:00Z'),
      pool('b', ['10.0.5.0/24'], '2030-02-01T00:00:00Z'),
    ];
    const { errors } = checkPool(pool('a', ['10.0.5.0/25'], '2030-01-01T00:00:00Z'), existing, 'a');
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('of IPAddressPool "b"')]);
  });

  it('ignores pools that are themselves invalid, as the controller does', () => {
    const existing = [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.0/25'], '2030-02-01T00:00:00Z')];
    // "b" overlaps "a" and is unused; a new pool overlapping only "b" is fine.
    expect(checkPool(pool('c', ['10.0.0.1-10.0.0.2']), existing, 'c').errors).toHaveLength(1);
    expect(checkPool(pool('c', ['10.0.1.0/24']), existing, 'c').errors).toEqual([]);
  });

  it('quotes the value of a malformed or reversed entry', () => {
    const { errors } = checkPool(pool('p', ['10.0.0.0/24', '10.0.0.9-10.0.0.1', '10.0.0.300/32']), [], 'p');
    expect(errors).toEqual([
      { path: 'spec.addresses[1]', message: '"10.0.0.9-10.0.0.1": range start is after its end' },
      { path: 'spec.addresses[2]', message: expect.stringMatching(/^"10\.0\.0\.300\/32": must be a CIDR/) },
    ]);
  });

  it('reports pools without addresses and non-objects', () => {
    expect(checkPool({ metadata: { name: 'p' }, spec: {} }, [], 'p').errors).toEqual([
      { path: 'spec.addresses', message: 'is required' },
    ]);
    expect(checkPool('nope', [], 'p').errors).toEqual([
      { path: '', message: 'the object is not a JSON object' },
    ]);
  });

  it('passes warnings of an accepted pool', () => {
    const { errors, warnings } = checkPool(pool('p', ['10.0.0.1/24']), [], 'p');
    expect(errors).toEqual([]);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]?.path).toBe('spec.addresses[0]');
  });

  it('accepts a large IPv6 pool: nothing enumerates addresses, so no size rule is needed', () => {
    expect(checkPool(pool('v6', ['2001:db8::/32', 'fd00::1-fd00::ffff:ffff:ffff']), [], 'v6').errors).toEqual(
      [],
    );
  });
});

describe('valueAt and withValue', () => {
  const obj = { spec: { addresses: ['a', 'b'], sel: { 'x/y': 'z' } } };
  it('follows the paths validators write', () => {
    expect(valueAt(obj, 'spec.addresses[1]')).toBe('b');
    expect(valueAt(obj, 'spec.sel["x/y"]')).toBe('z');
    expect(valueAt(obj, 'spec.missing[3]')).toBeUndefined();
    expect(valueAt(obj, '')).toBeUndefined();
    expect(valueAt(obj, 'spec..x')).toBeUndefined();
  });
  it('adds the quoted value only when the message lacks it', () => {
    expect(withValue(obj, { path: 'spec.addresses[0]', message: 'bad' }).message).toBe('"a": bad');
    expect(withValue(obj, { path: 'spec.addresses[0]', message: '"a" is bad' }).message).toBe('"a" is bad');
    expect(withValue(obj, { path: 'spec', message: 'bad' }).message).toBe('bad');
  });
});

describe('poolValidationHandler', () => {
  const existing = [pool('a', ['10.0.0.0/24'])];
  const source = (synced = true) => ({ list: () => existing, hasSynced: () => synced });
  const request = (r: Partial<AdmissionRequest>): AdmissionRequest => ({
    uid: 'u',
    kind: { group: 'portico.io', version: 'v1alpha1', kind: 'IPAddressPool' },
    resource: { group: 'portico.io', version: 'v1alpha1', resource: 'ipaddresspools' },
    operation: 'CREATE',
    namespace: NS,
    ...r,
  });
  const handle = poolValidationHandler(source(), NS);

  it('denies an overlap with 422 Invalid, the field named in message and causes', async () => {
    const r = await handle(request({ name: 'b', object: pool('b', ['10.0.0.5']) }));
    expect(r).toEqual({
      allowed: false,
      status: {
        code: 422,
        reason: 'Invalid',
        message:
          'spec.addresses[0]: "10.0.0.5" overlaps spec.addresses[0] ("10.0.0.0/24") of IPAddressPool "a"',
        causes: [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.addresses[0]',
            message: '"10.0.0.5" overlaps spec.addresses[0] ("10.0.0.0/24") of IPAddressPool "a"',
          },
        ],
      },
    });
  });

  it('allows a valid pool', async () => {
    expect(await handle(request({ object: pool('b', ['10.0.1.0/24']) }))).toEqual({ allowed: true });
  });

  it('uses the request name when the object has none yet', async () => {
    const r = await handle(
      request({ name: 'gen-x', object: { metadata: {}, spec: { addresses: ['10.0.0.0/30'] } } }),
    );
    expect(messageOf(r)).toMatch(/IPAddressPool "a"/);
  });

  it('lets metadata-only updates and deletions through, even on an invalid pool', async () => {
    const bad = { metadata: { name: 'b', labels: { x: 'y' } }, spec: { addresses: ['10.0.0.0/25'] } };
    const old = { metadata: { name: 'b' }, spec: { addresses: ['10.0.0.0/25'] } };
    expect((await handle(request({ operation: 'UPDATE', object: bad, oldObject: old }))).allowed).toBe(true);
    const changed = { ...bad, spec: { addresses: ['10.0.0.0/26'] } };
    expect((await handle(request({ operation: 'UPDATE', object: changed, oldObject: old }))).allowed).toBe(
      false,
    );
    const deleting = {
      ...changed,
      metadata: { ...changed.metadata, deletionTimestamp: '2030-01-01T00:00:00Z' },
    };
    expect((await handle(request({ operation: 'UPDATE', object: deleting, oldObject: old }))).allowed).toBe(
      true,
    );
  });

  it('asks to retry while the pool cache is not synced', async () => {
    const r = await poolValidationHandler(source(false), NS)(request({ object: pool('b', ['10.0.1.0/24']) }));
    expect(r).toMatchObject({ allowed: false, status: { code: 503, reason: 'ServiceUnavailable' } });
  });

  it('checks a pool in another namespace on its own and warns that Portico ignores it', async () => {
    const r = await handle(request({ namespace: 'elsewhere', object: pool('b', ['10.0.0.0/24']) }));
    expect(r).toEqual({
      allowed: true,
      warnings: [expect.stringMatching(/only uses IPAddressPools in namespace/)],
    });
    const bad = await handle(request({ namespace: 'elsewhere', object: pool('b', ['10.0.0.9-10.0.0.1']) }));
    expect(bad.allowed).toBe(false);
  });

  it('is registered for CREATE and UPDATE of ipaddresspools with failurePolicy Fail', () => {
    expect(poolWebhookDefinition).toMatchObject({
      name: 'ipaddresspools.portico.io',
      type: 'validating',
      path: '/validate-ipaddresspool',
      failurePolicy: 'Fail',
      rules: [{ apiGroups: ['portico.io'], resources: ['ipaddresspools'], operations: ['CREATE', 'UPDATE'] }],
    });
  });
});
