import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import {
  BACKDATE_MS,
  DAY_MS,
  DEFAULT_ROTATION_POLICY,
  SECRET_KEYS,
  decodeSecretData,
  encodeSecretData,
  generateCA,
  inspectBundle,
  issueServingCert,
  needsRotation,
  planCA,
  planServing,
  renewalTime,
  rotateBundle,
  servingNames,
  splitPemCerts,
} from '../../../operator/webhook/certs.ts';
import type { BundleFacts, CAFacts, ServingFacts } from '../../../operator/webhook/certs.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const policy = DEFAULT_ROTATION_POLICY;
const names = servingNames('portico-webhook', 'portico-system');

describe('needsRotation', () => {
  const cert = { notBefore: 0, notAfter: 300 };

  it('keeps a certificate until two thirds of its lifetime have passed', () => {
    expect(renewalTime(cert)).toBe(200);
    expect(needsRotation(0, cert)).toBe(false);
    expect(needsRotation(199, cert)).toBe(false);
    expect(needsRotation(200, cert)).toBe(true);
    expect(needsRotation(299, cert)).toBe(true);
  });

  it('rotates an expired certificate whatever the fraction', () => {
    expect(needsRotation(300, cert, 1)).toBe(true);
    expect(needsRotation(10_000, cert, 1)).toBe(true);
    expect(needsRotation(299, cert, 1)).toBe(false);
  });

  it('uses the configured fraction', () => {
    expect(needsRotation(149, cert, 0.5)).toBe(false);
    expect(needsRotation(150, cert, 0.5)).toBe(true);
  });

  it('for the defaults: a 1-year certificate renews after about 243 days, a 10-year CA after about 6.7 years', () => {
    const year = { notBefore: NOW, notAfter: NOW + 365 * DAY_MS };
    expect(needsRotation(NOW + 243 * DAY_MS, year)).toBe(false);
    expect(needsRotation(NOW + 244 * DAY_MS, year)).toBe(true);
    const decade = { notBefore: NOW, notAfter: NOW + 3650 * DAY_MS };
    expect(needsRotation(NOW + 2433 * DAY_MS, decade)).toBe(false);
    expect(needsRotation(NOW + 2434 * DAY_MS, decade)).toBe(true);
  });
});

describe('servingNames', () => {
  it('covers the Service DNS names and loopback', () => {
    expect(names.dnsNames).toEqual([
      'portico-webhook',
      'portico-webhook.portico-system',
      'portico-webhook.portico-system.svc',
      'portico-webhook.portico-system.svc.cluster.local',
    ]);
    expect(names.ipAddresses).toEqual(['127.0.0.1', '::1']);
  });

  it('adds the host of an out-of-cluster URL once', () => {
    const n = servingNames('w', 'ns', ['127.0.0.1', '[fd00::1]', 'Webhook.Example.COM']);
    expect(n.ipAddresses).toEqual(['127.0.0.1', '::1', 'fd00::1']);
    expect(n.dnsNames).toContain('webhook.example.com');
  });
});

const ca: CAFacts = {
  notBefore: NOW,
  notAfter: NOW + 1000 * DAY_MS,
  serial: 'ca1',
  keyMatches: true,
  isCA: true,
};
const serving: ServingFacts = {
  notBefore: NOW,
  notAfter: NOW + 100 * DAY_MS,
  serial: 's1',
  keyMatches: true,
  signedByCA: true,
  dnsNames: [...names.dnsNames],
  ipAddresses: [...names.ipAddresses],
};
const facts = (f: Partial<BundleFacts>): BundleFacts => ({ ca, serving, problems: [], ...f });

describe('planCA', () => {
  it('keeps a healthy CA and says when it is due', () => {
    expect(planCA(NOW + DAY_MS, facts({}), policy)).toEqual({ action: 'keep', renewAt: renewalTime(ca) });
  });

  it.each<[string, Partial<BundleFacts>, RegExp]>([
    ['a missing CA', { ca: undefined, problems: ['ca.crt holds no certificate'] }, /ca\.crt holds no/],
    ['a certificate that is no CA', { ca: { ...ca, isCA: false } }, /not a CA/],
    ['a key that is not the CA key', { ca: { ...ca, keyMatches: false } }, /ca\.key does not belong/],
  ])('issues a new CA for %s', (_what, f, reason) => {
    const plan = planCA(NOW, facts(f), policy);
    expect(plan.action).toBe('issue');
    expect(plan.action === 'issue' && plan.reason).toMatch(reason);
  });

  it('issues a new CA once it is due', () => {
    const plan = planCA(NOW + 700 * DAY_MS, facts({}), policy);
    expect(plan).toEqual({ action: 'issue', reason: expect.stringMatching(/CA ca1 is due for renewal/) });
  });
});

describe('planServing', () => {
  it('keeps a healthy certificate and says when it is due', () => {
    expect(planServing(NOW, facts({}), names, policy)).toEqual({
      action: 'keep',
      renewAt: renewalTime(serving),
    });
  });

  it.each<[string, Partial<BundleFacts>, RegExp]>([
    [
      'a missing certificate',
      { serving: undefined, problems: ['tls.crt does not parse'] },
      /tls\.crt does not parse/,
    ],
    ['a key that is not its key', { serving: { ...serving, keyMatches: false } }, /tls\.key does not belong/],
    [
      'a certificate from another CA',
      { serving: { ...serving, signedByCA: false } },
      /not signed by the current CA/,
    ],
    [
      'a certificate missing a name',
      { serving: { ...serving, dnsNames: serving.dnsNames.slice(1) } },
      /does not cover portico-webhook$/,
    ],
    [
      'a certificate missing an IP',
      { serving: { ...serving, ipAddresses: ['127.0.0.1'] } },
      /does not cover ::1/,
    ],
  ])('issues a new certificate for %s', (_what, f, reason) => {
    const plan = planServing(NOW, facts(f), names, policy);
    expect(plan.action).toBe('issue');
    expect(plan.action === 'issue' && plan.reason).toMatch(reason);
  });

  it('issues a new certificate once it is due', () => {
    const plan = planServing(NOW + 67 * DAY_MS, facts({}), names, policy);
    expect(plan).toEqual({ action: 'issue', reason: expect.stringMatching(/certificate s1 is due/) });
  });
});

describe('generated certificates', () => {
  it('form a CA and a serving certificate that node and the rotation rules accept', async () => {
    const caPair = await generateCA({ nowMs: NOW, validityMs: 3650 * DAY_MS });
    const pair = await issueServingCert({ ca: caPair, names, nowMs: NOW, validityMs: 365 * DAY_MS });

    const caCert = new X509Certificate(caPair.cert);
    const cert = new X509Certificate(pair.cert);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.checkHost('portico-webhook.portico-system.svc')).toBe('portico-webhook.portico-system.svc');
    expect(cert.checkHost('portico-webhook.portico-system.svc.cluster.local')).toBeDefined();
    expect(cert.checkHost('other.portico-system.svc')).toBeUndefined();
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.validFromDate.getTime()).toBe(NOW - BACKDATE_MS);
    expect(cert.validToDate.getTime()).toBe(NOW + 365 * DAY_MS);
    expect(caCert.serialNumber).not.toBe(cert.serialNumber);

    const content = decodeSecretData(
      encodeSecretData({
        [SECRET_KEYS.caCert]: caPair.cert,
        [SECRET_KEYS.caKey]: caPair.key,
        [SECRET_KEYS.cert]: pair.cert,
        [SECRET_KEYS.key]: pair.key,
      }),
    );
    const f = inspectBundle(content);
    expect(f.problems).toEqual([]);
    expect(f.ca).toMatchObject({ isCA: true, keyMatches: true, serial: caCert.serialNumber });
    expect(f.serving).toMatchObject({ keyMatches: true, signedByCA: true, serial: cert.serialNumber });
    expect(f.serving?.ipAddresses).toEqual(['127.0.0.1', '::1']);
    expect(planCA(NOW, f, policy).action).toBe('keep');
    expect(planServing(NOW, f, names, policy).action).toBe('keep');

    // Swapped keys and a certificate from another CA are noticed.
    const other = await generateCA({ nowMs: NOW, validityMs: DAY_MS });
    const swapped = inspectBundle({
      ...content,
      [SECRET_KEYS.caKey]: other.key,
      [SECRET_KEYS.key]: caPair.key,
    });
    expect(swapped.ca?.keyMatches).toBe(false);
    expect(swapped.serving?.keyMatches).toBe(false);
    const foreign = inspectBundle({ ...content, [SECRET_KEYS.caCert]: other.cert });
    expect(foreign.serving?.signedByCA).toBe(false);
  });

  it('never lets a serving certificate outlive its CA', async () => {
    const caPair = await generateCA({ nowMs: NOW, validityMs: 30 * DAY_MS });
    const pair = await issueServingCert({ ca: caPair, names, nowMs: NOW, validityMs: 365 * DAY_MS });
    expect(new X509Certificate(pair.cert).validToDate.getTime()).toBe(NOW + 30 * DAY_MS);
  });

  it('reports garbage without throwing', () => {
    const f = inspectBundle({
      [SECRET_KEYS.caCert]: 'junk',
      [SECRET_KEYS.cert]: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
    });
    expect(f.ca).toBeUndefined();
    expect(f.serving).toBeUndefined();
    expect(f.problems).toEqual(['ca.crt holds no certificate', 'tls.crt does not parse']);
    expect(planCA(NOW, f, policy)).toEqual({ action: 'issue', reason: 'ca.crt holds no certificate' });
    expect(planServing(NOW, f, names, policy)).toEqual({ action: 'issue', reason: 'tls.crt does not parse' });
  });
});

describe('rotateBundle', () => {
  it('puts the new CA first and keeps earlier ones until they expire', async () => {
    const old = await generateCA({ nowMs: NOW, validityMs: 10 * DAY_MS });
    const older = await generateCA({ nowMs: NOW - 20 * DAY_MS, validityMs: 10 * DAY_MS });
    const fresh = await generateCA({ nowMs: NOW, validityMs: 3650 * DAY_MS });
    const bundle = rotateBundle(fresh.cert, old.cert + older.cert, NOW);
    expect(splitPemCerts(bundle)).toEqual([fresh.cert, old.cert]);
    // Rotating again to the same CA does not duplicate it.
    expect(splitPemCerts(rotateBundle(fresh.cert, bundle, NOW))).toEqual([fresh.cert, old.cert]);
    // Once the old one has expired it is dropped.
    expect(splitPemCerts(rotateBundle(fresh.cert, bundle, NOW + 11 * DAY_MS))).toEqual([fresh.cert]);
  });
});
