// MetalLB's documented examples, with only apiVersion changed, must be
// accepted; bad objects must be rejected with the field named.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import {
  API_VERSION,
  formatErrors,
  validateBFDProfile,
  validateBGPAdvertisement,
  validateBGPPeer,
  validateCommunity,
  validateIPAddressPool,
  validateL2Advertisement,
} from '../../../crds/index.ts';
import type { FieldError, ValidationResult } from '../../../crds/index.ts';
import { validators } from '../crd-validators.ts';

/** Parses MetalLB YAML and rewrites apiVersion to ours. */
function portico(yamlText: string): Record<string, unknown>[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as Record<string, unknown>)
    .filter((o) => o !== null)
    .map((o) => ({ ...o, apiVersion: API_VERSION }));
}

function validate(obj: Record<string, unknown>): ValidationResult<unknown> {
  const v = validators[obj.kind as string];
  if (!v) throw new Error(`no validator for ${String(obj.kind)}`);
  return v(obj);
}

function expectValid(obj: Record<string, unknown>) {
  const r = validate(obj);
  if (!r.ok) throw new Error(`${String(obj.kind)} rejected: ${formatErrors(r.errors)}`);
  return r.value as { spec: Record<string, unknown> };
}

function errorsOf(r: ValidationResult<unknown>): FieldError[] {
  if (r.ok) throw new Error('expected the object to be rejected');
  return r.errors;
}

const examples = readFileSync(new URL('../../fixtures/metallb-examples.yaml', import.meta.url), 'utf8');

describe('MetalLB examples with apiVersion portico.io/v1alpha1', () => {
  const objects = portico(examples);

  it.each(objects.map((o) => [`${String(o.kind)}/${String((o.metadata as { name: string }).name)}`, o]))(
    'accepts %s',
    (_name, obj) => {
      expectValid(obj as Record<string, unknown>);
    },
  );

  it('applies the defaults the CRD declares', () => {
    const pool = expectValid(objects[0] as Record<string, unknown>);
    expect(pool.spec).toMatchObject({ autoAssign: true, avoidBuggyIPs: false, usage: 'LoadBalancer' });
    const cheap = expectValid(objects[1] as Record<string, unknown>);
    expect(cheap.spec.autoAssign).toBe(false);
    const peer = expectValid(objects[5] as Record<string, unknown>);
    expect(peer.spec).toMatchObject({ peerPort: 179, disableMP: false, dualStackAddressFamily: false });
  });

  it('gives an advertisement without spec the spec defaults', () => {
    const empty = objects.find(
      (o) => o.kind === 'BGPAdvertisement' && (o.metadata as { name: string }).name === 'empty',
    );
    const v = expectValid(empty as Record<string, unknown>);
    expect(v.spec).toEqual({ aggregationLength: 32, aggregationLengthV6: 128 });
  });

  it('keeps serviceAllocation as written', () => {
    const v = expectValid(objects[2] as Record<string, unknown>);
    expect(v.spec.serviceAllocation).toEqual({
      priority: 50,
      namespaces: ['namespace-a', 'namespace-b'],
      namespaceSelectors: [{ matchLabels: { foo: 'bar' } }],
      serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['bar'] }] }],
    });
  });
});

function pool(spec: Record<string, unknown>) {
  return { apiVersion: API_VERSION, kind: 'IPAddressPool', metadata: { name: 'p' }, spec };
}

describe('IPAddressPool rejections', () => {
  it('names the bad address entry', () => {
    const errs = errorsOf(
      validateIPAddressPool(pool({ addresses: ['10.0.0.0/24', '10.0.1.0/24', '10.0.0.300'] })),
    );
    expect(errs).toHaveLength(1);
    expect(errs[0]?.path).toBe('spec.addresses[2]');
    expect(errs[0]?.message).toMatch(/CIDR/);
  });

  it.each([
    ['10.0.0.0/33', 'prefix too long'],
    ['10.0.0.1-fc00::1', 'mixed families'],
    ['10.0.0.1-10.0.0.2-10.0.0.3', 'three parts'],
    ['::ffff:10.0.0.1', 'IPv4-mapped IPv6'],
    ['fe80::1%eth0', 'zone'],
    ['010.0.0.1', 'leading zero'],
    ['', 'empty'],
  ])('rejects %s (%s)', (entry) => {
    const errs = errorsOf(validateIPAddressPool(pool({ addresses: [entry] })));
    expect(errs[0]?.path).toBe('spec.addresses[0]');
  });

  it('rejects a reversed range (checked in TypeScript, not expressible in CEL)', () => {
    const errs = errorsOf(validateIPAddressPool(pool({ addresses: ['10.0.0.9 - 10.0.0.1'] })));
    expect(errs).toEqual([{ path: 'spec.addresses[0]', message: 'range start is after its end' }]);
  });

  it('accepts single IPs, spaced ranges and IPv6 ranges', () => {
    const r = validateIPAddressPool(
      pool({ addresses: ['10.0.0.7', '10.0.1.1 - 10.0.1.9', 'fc00::1-fc00::ff'] }),
    );
    expect(r.ok).toBe(true);
  });

  it('requires at least one address', () => {
    expect(errorsOf(validateIPAddressPool(pool({ addresses: [] })))[0]?.path).toBe('spec.addresses');
    expect(errorsOf(validateIPAddressPool(pool({})))).toEqual([
      { path: 'spec.addresses', message: 'is required' },
    ]);
  });

  it('requires spec', () => {
    expect(errorsOf(validateIPAddressPool({ kind: 'IPAddressPool' }))).toEqual([
      { path: 'spec', message: 'is required' },
    ]);
  });

  it('rejects an unknown usage and a wrong type, naming each field', () => {
    const errs = errorsOf(
      validateIPAddressPool(pool({ addresses: ['10.0.0.0/24'], usage: 'NodePort', autoAssign: 'yes' })),
    );
    expect(errs.map((e) => e.path).sort()).toEqual(['spec.autoAssign', 'spec.usage']);
    expect(errs.find((e) => e.path === 'spec.usage')?.message).toBe(
      'must be one of "LoadBalancer", "ClusterIP"',
    );
    expect(errs.find((e) => e.path === 'spec.autoAssign')?.message).toBe('must be a boolean, not string');
  });

  it('rejects duplicate namespaces and bad selectors in serviceAllocation', () => {
    const errs = errorsOf(
      validateIPAddressPool(
        pool({
          addresses: ['10.0.0.0/24'],
          serviceAllocation: {
            namespaces: ['a', 'a'],
            serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In' }] }],
            namespaceSelectors: [{ matchLabels: { 'bad key!': 'x' } }],
          },
        }),
      ),
    );
    const paths = errs.map((e) => e.path).sort();
    expect(paths).toEqual([
      'spec.serviceAllocation.namespaceSelectors[0].matchLabels["bad key!"]',
      'spec.serviceAllocation.namespaces[1]',
      'spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values',
    ]);
  });

  it('drops an unparsable status instead of rejecting the object', () => {
    const r = validateIPAddressPool({ ...pool({ addresses: ['10.0.0.0/24'] }), status: { ipv4: 'bad' } });
    expect(r.ok && r.value.status).toBeUndefined();
  });
});

function peer(spec: Record<string, unknown>) {
  return { kind: 'BGPPeer', metadata: { name: 'p' }, spec: { myASN: 64512, ...spec } };
}

describe('BGPPeer rejections', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['no peer ASN', { peerAddress: '10.0.0.1' }, 'spec', /peerASN and dynamicASN/],
    [
      'both ASN forms',
      { peerASN: 1, dynamicASN: 'external', peerAddress: '10.0.0.1' },
      'spec',
      /exactly one/,
    ],
    ['no address', { peerASN: 1 }, 'spec', /peerAddress and interface/],
    ['bad address', { peerASN: 1, peerAddress: '10.0.0.256' }, 'spec.peerAddress', /IPv4 or IPv6/],
    ['short hold time', { peerASN: 1, peerAddress: '10.0.0.1', holdTime: '2s' }, 'spec.holdTime', /3s/],
    [
      'bad duration',
      { peerASN: 1, peerAddress: '10.0.0.1', holdTime: '90 seconds' },
      'spec.holdTime',
      /duration/,
    ],
    [
      'keepalive above hold',
      { peerASN: 1, peerAddress: '10.0.0.1', holdTime: '30s', keepaliveTime: '40s' },
      'spec.keepaliveTime',
      /exceed/,
    ],
    [
      'fractional connect time',
      { peerASN: 1, peerAddress: '10.0.0.1', connectTime: '1500ms' },
      'spec.connectTime',
      /whole/,
    ],
    ['IPv6 router ID', { peerASN: 1, peerAddress: '10.0.0.1', routerID: 'fc00::1' }, 'spec.routerID', /IPv4/],
    [
      'multihop iBGP',
      { peerASN: 64512, peerAddress: '10.0.0.1', ebgpMultiHop: true },
      'spec.ebgpMultiHop',
      /iBGP/,
    ],
    [
      'password and secret',
      { peerASN: 1, peerAddress: '10.0.0.1', password: 'x', passwordSecret: { name: 's' } },
      'spec.password',
      /mutually exclusive/,
    ],
    [
      'mixed source family',
      { peerASN: 1, peerAddress: '10.0.0.1', sourceAddress: 'fc00::2' },
      'spec.sourceAddress',
      /family/,
    ],
    ['ASN too large', { peerASN: 4294967296, peerAddress: '10.0.0.1' }, 'spec.peerASN', /<= 4294967295/],
    ['bad dynamicASN', { dynamicASN: 'both', peerAddress: '10.0.0.1' }, 'spec.dynamicASN', /internal/],
  ];
  it.each(cases)('rejects %s', (_name, spec, path, message) => {
    const errs = errorsOf(validateBGPPeer(peer(spec)));
    expect(errs.map((e) => e.path)).toContain(path);
    expect(errs.find((e) => e.path === path)?.message).toMatch(message);
  });

  it('accepts dynamicASN with an interface, and an empty passwordSecret next to a password', () => {
    expect(validateBGPPeer(peer({ dynamicASN: 'internal', interface: 'eth1' })).ok).toBe(true);
    expect(
      validateBGPPeer(peer({ peerASN: 1, peerAddress: '10.0.0.1', password: 'x', passwordSecret: {} })).ok,
    ).toBe(true);
  });
});

describe('BGPAdvertisement, BFDProfile and Community rejections', () => {
  it('rejects malformed communities but not alias names', () => {
    const errs = errorsOf(
      validateBGPAdvertisement({
        spec: {
          communities: ['65536:1', 'large:1:2', 'large:1:2:4294967296', 'my-alias', 'a:b:c', '1:2', '1:2'],
        },
      }),
    );
    expect(errs.map((e) => e.path)).toEqual([
      'spec.communities[0]',
      'spec.communities[2]',
      'spec.communities[6]',
    ]);
    expect(errs[2]?.message).toMatch(/duplicate/);
  });

  it('rejects an aggregation length out of range, and serviceSelectors with aggregation', () => {
    expect(errorsOf(validateBGPAdvertisement({ spec: { aggregationLength: 33 } }))[0]?.path).toBe(
      'spec.aggregationLength',
    );
    const errs = errorsOf(
      validateBGPAdvertisement({
        spec: { aggregationLength: 24, serviceSelectors: [{ matchLabels: { a: 'b' } }] },
      }),
    );
    expect(errs).toEqual([
      {
        path: 'spec.serviceSelectors',
        message:
          'serviceSelectors cannot be combined with aggregationLength other than 32 or aggregationLengthV6 other than 128',
      },
    ]);
  });

  it('rejects BFD values outside MetalLB ranges', () => {
    const errs = errorsOf(
      validateBFDProfile({ spec: { receiveInterval: 5, detectMultiplier: 256, minimumTtl: 0 } }),
    );
    expect(errs.map((e) => e.path).sort()).toEqual([
      'spec.detectMultiplier',
      'spec.minimumTtl',
      'spec.receiveInterval',
    ]);
    expect(errs.find((e) => e.path === 'spec.receiveInterval')?.message).toBe('must be >= 10');
  });

  it('rejects bad and duplicate community aliases', () => {
    const errs = errorsOf(
      validateCommunity({
        spec: {
          communities: [
            { name: 'a', value: '1:2' },
            { name: 'b', value: 'not-a-community' },
            { name: 'a', value: '3:4' },
            { value: '5:6' },
          ],
        },
      }),
    );
    expect(errs.map((e) => e.path)).toEqual(['spec.communities[1].value', 'spec.communities[3].name']);
    // Duplicates are found once the items themselves are valid.
    const dup = errorsOf(
      validateCommunity({
        spec: {
          communities: [
            { name: 'a', value: '1:2' },
            { name: 'a', value: '3:4' },
          ],
        },
      }),
    );
    expect(dup).toEqual([{ path: 'spec.communities[1]', message: 'duplicate name "a"' }]);
  });

  it('rejects an L2 interface name with a slash', () => {
    expect(errorsOf(validateL2Advertisement({ spec: { interfaces: ['eth0', 'a/b'] } }))[0]?.path).toBe(
      'spec.interfaces[1]',
    );
  });
});
