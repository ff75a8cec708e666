// The webhook's self-managed PKI, with no I/O: generate a CA and a serving
// certificate (ECDSA P-256, via WebCrypto and @peculiar/x509), read back what a
// Secret holds (node:crypto's X509Certificate), and decide when to rotate.
//
// The Secret (kubernetes.io/tls) holds:
//   ca.crt   the CA bundle: the current CA first, then earlier CAs that are
//            still valid, so certificates they signed keep verifying while a
//            CA rotation propagates to every replica
//   ca.key   the current CA's private key (PKCS#8 PEM)
//   tls.crt  the serving certificate, signed by the current CA
//   tls.key  its private key
// caBundle in the webhook configurations is exactly ca.crt.
import 'reflect-metadata';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate as PeculiarCertificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

export const SECRET_KEYS = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
} as const;

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface RotationPolicy {
  /** Lifetime of a new CA; default 10 years. */
  caValidityMs: number;
  /** Lifetime of a new serving certificate; default 1 year (never beyond its CA). */
  certValidityMs: number;
  /** Renew once this fraction of a certificate's lifetime has passed; default 2/3. */
  renewFraction: number;
}

export const DEFAULT_ROTATION_POLICY: RotationPolicy = {
  caValidityMs: 3650 * DAY_MS,
  certValidityMs: 365 * DAY_MS,
  renewFraction: 2 / 3,
};

/** notBefore is set this far in the past, so a peer whose clock is a little behind still accepts it. */
export const BACKDATE_MS = 60 * 60 * 1000;

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** The names a serving certificate must cover. */
export interface ServingNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** The DNS names of a Service (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`) plus extra hosts. */
export function servingNames(
  service: string,
  namespace: string,
  extraHosts: readonly string[] = [],
): ServingNames {
  const dnsNames = [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
  const ipAddresses = ['127.0.0.1', '::1'];
  for (const raw of extraHosts) {
    const host = raw.replace(/^\[(.*)\]$/, '$1');
    if (!host) continue;
    const list = isIP(host) ? ipAddresses : dnsNames;
    const canonical = isIP(host) ? host : host.toLowerCase();
    if (!list.includes(canonical)) list.push(canonical);
  }
  return { dnsNames, ipAddresses };
}

// ---------------------------------------------------------------------------
// Generation

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** 16 random bytes, positive as DER requires (the top bit clear). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

const subtle = webcrypto.subtle;

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function normalisePem(pem: string): string {
  return pem.replace(/\r\n/g, '\n').trim() + '\n';
}

/** A self-signed CA valid from `nowMs` (backdated by BACKDATE_MS) for `validityMs`. */
export async function generateCA(options: {
  nowMs: number;
  validityMs: number;
  commonName?: string;
}): Promise<KeyPair> {
  const keys = await newKeys();
  const cn = options.commonName ?? `portico-webhook-ca@${Math.floor(options.nowMs / 1000)}`;
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [cn] }, { O: ['portico.io'] }],
    notBefore: new Date(options.nowMs - BACKDATE_MS),
    notAfter: new Date(options.nowMs + options.validityMs),
    keys,
    signingAlgorithm: EC_SIGN,
    extensions: [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: normalisePem(cert.toString('pem')), key: await privateKeyPem(keys.privateKey) };
}

/**
 * A serving certificate for `names`, signed by `ca`. It never outlives the CA:
 * notAfter is capped at the CA's.
 */
export async function issueServingCert(options: {
  ca: KeyPair;
  names: ServingNames;
  nowMs: number;
  validityMs: number;
}): Promise<KeyPair> {
  const caCert = new PeculiarCertificate(options.ca.cert);
  const caKey = await subtle.importKey('pkcs8', PemConverter.decodeFirst(options.ca.key), EC_KEY, false, [
    'sign',
  ]);
  const keys = await newKeys();
  const notAfter = Math.min(options.nowMs + options.validityMs, caCert.notAfter.getTime());
  // Verifiers find the issuer by its exact subject bytes and key identifier.
  const caKeyId =
    caCert.getExtension(SubjectKeyIdentifierExtension)?.keyId ??
    (await SubjectKeyIdentifierExtension.create(caCert.publicKey)).keyId;
  const { dnsNames, ipAddresses } = options.names;
  const cert = await X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [dnsNames[2] ?? dnsNames[0] ?? 'portico-webhook'] }, { O: ['portico.io'] }],
    issuer: caCert.subjectName,
    notBefore: new Date(options.nowMs - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: EC_SIGN,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
      new SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
      new AuthorityKeyIdentifierExtension(caKeyId),
    ],
  });
  return { cert: normalisePem(cert.toString('pem')), key: await privateKeyPem(keys.privateKey) };
}

// ---------------------------------------------------------------------------
// Reading a Secret back

/** What the rotation rules need to know about one certificate. */
export interface CertValidity {
  notBefore: number;
  notAfter: number;
}

export interface CertFacts extends CertValidity {
  serial: string;
  /** The private key stored beside it belongs to it. */
  keyMatches: boolean;
}

export interface CAFacts extends CertFacts {
  isCA: boolean;
}

export interface ServingFacts extends CertFacts {
  /** Signed by the current CA (the one ca.key belongs to). */
  signedByCA: boolean;
  dnsNames: string[];
  ipAddresses: string[];
}

/** A Secret's content as the rotation rules see it; missing or unreadable parts are undefined, with why. */
export interface BundleFacts {
  ca?: CAFacts;
  serving?: ServingFacts;
  /** Why `ca` or `serving` is missing, for logs. */
  problems: string[];
}

/** Every PEM certificate in a text, in order. */
export function splitPemCerts(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    normalisePem,
  );
}

function parseCert(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function keyMatches(cert: X509Certificate, keyPem: string | undefined): boolean {
  if (!keyPem) return false;
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function validity(cert: X509Certificate): CertValidity {
  return { notBefore: cert.validFromDate.getTime(), notAfter: cert.validToDate.getTime() };
}

function sanList(cert: X509Certificate): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  // Node formats it as "DNS:a, DNS:b, IP Address:127.0.0.1" (values with
  // special characters quoted, which our names never need).
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ipAddresses.push(canonicalIP(part.slice(11)));
  }
  return { dnsNames, ipAddresses };
}

/** 0:0:0:0:0:0:0:1 and ::1 compare equal. */
function canonicalIP(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

export interface SecretContent {
  [SECRET_KEYS.caCert]?: string;
  [SECRET_KEYS.caKey]?: string;
  [SECRET_KEYS.cert]?: string;
  [SECRET_KEYS.key]?: string;
}

/** Decodes a Secret's base64 `data` into the PEM texts we use. */
export function decodeSecretData(data: Record<string, string> | undefined): SecretContent {
  const out: SecretContent = {};
  for (const key of Object.values(SECRET_KEYS)) {
    const value = data?.[key];
    if (typeof value === 'string' && value !== '') out[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return out;
}

export function encodeSecretData(content: SecretContent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(content)) {
    if (typeof value === 'string') out[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  return out;
}

/** Reads the certificates of a Secret into facts. Never throws on bad content. */
export function inspectBundle(content: SecretContent): BundleFacts {
  const problems: string[] = [];
  const facts: BundleFacts = { problems };
  const caPem = splitPemCerts(content[SECRET_KEYS.caCert] ?? '')[0];
  const caCert = caPem ? parseCert(caPem) : undefined;
  if (!caPem) problems.push(`${SECRET_KEYS.caCert} holds no certificate`);
  else if (!caCert) problems.push(`${SECRET_KEYS.caCert} does not parse`);
  else {
    facts.ca = {
      ...validity(caCert),
      serial: caCert.serialNumber,
      keyMatches: keyMatches(caCert, content[SECRET_KEYS.caKey]),
      isCA: caCert.ca,
    };
  }
  const servingPem = splitPemCerts(content[SECRET_KEYS.cert] ?? '')[0];
  const serving = servingPem ? parseCert(servingPem) : undefined;
  if (!servingPem) problems.push(`${SECRET_KEYS.cert} holds no certificate`);
  else if (!serving) problems.push(`${SECRET_KEYS.cert} does not parse`);
  else {
    let signedByCA: boolean;
    try {
      signedByCA = !!caCert && serving.checkIssued(caCert) && serving.verify(caCert.publicKey);
    } catch {
      signedByCA = false;
    }
    facts.serving = {
      ...validity(serving),
      serial: serving.serialNumber,
      keyMatches: keyMatches(serving, content[SECRET_KEYS.key]),
      signedByCA,
      ...sanList(serving),
    };
  }
  return facts;
}

// ---------------------------------------------------------------------------
// Rotation decisions (pure)

/** When a certificate is due for renewal: `renewFraction` of its lifetime after notBefore. */
export function renewalTime(
  cert: CertValidity,
  renewFraction = DEFAULT_ROTATION_POLICY.renewFraction,
): number {
  return cert.notBefore + Math.floor((cert.notAfter - cert.notBefore) * renewFraction);
}

/** True once `renewFraction` of the certificate's lifetime has passed (or it has expired). */
export function needsRotation(
  nowMs: number,
  cert: CertValidity,
  renewFraction = DEFAULT_ROTATION_POLICY.renewFraction,
): boolean {
  return nowMs >= renewalTime(cert, renewFraction) || nowMs >= cert.notAfter;
}

export type RotationPlan = { action: 'keep'; renewAt: number } | { action: 'issue'; reason: string };

/** Whether the CA must be replaced (which also means a new serving certificate). */
export function planCA(nowMs: number, facts: BundleFacts, policy: RotationPolicy): RotationPlan {
  const ca = facts.ca;
  if (!ca) return { action: 'issue', reason: facts.problems[0] ?? 'no CA' };
  if (!ca.isCA) return { action: 'issue', reason: `${SECRET_KEYS.caCert} is not a CA certificate` };
  if (!ca.keyMatches) return { action: 'issue', reason: `${SECRET_KEYS.caKey} does not belong to the CA` };
  if (needsRotation(nowMs, ca, policy.renewFraction)) {
    return { action: 'issue', reason: `CA ${ca.serial} is due for renewal (expires ${iso(ca.notAfter)})` };
  }
  return { action: 'keep', renewAt: renewalTime(ca, policy.renewFraction) };
}

/** Whether the serving certificate must be replaced, given a current CA that is kept. */
export function planServing(
  nowMs: number,
  facts: BundleFacts,
  want: ServingNames,
  policy: RotationPolicy,
): RotationPlan {
  const s = facts.serving;
  if (!s)
    return { action: 'issue', reason: facts.problems.find((p) => p.startsWith('tls.')) ?? 'no certificate' };
  if (!s.keyMatches)
    return { action: 'issue', reason: `${SECRET_KEYS.key} does not belong to the certificate` };
  if (!s.signedByCA)
    return { action: 'issue', reason: `certificate ${s.serial} is not signed by the current CA` };
  const missing = [
    ...want.dnsNames.filter((n) => !s.dnsNames.includes(n)),
    ...want.ipAddresses.map(canonicalIP).filter((ip) => !s.ipAddresses.includes(ip)),
  ];
  if (missing.length > 0) {
    return { action: 'issue', reason: `certificate ${s.serial} does not cover ${missing.join(', ')}` };
  }
  if (needsRotation(nowMs, s, policy.renewFraction)) {
    return {
      action: 'issue',
      reason: `certificate ${s.serial} is due for renewal (expires ${iso(s.notAfter)})`,
    };
  }
  return { action: 'keep', renewAt: renewalTime(s, policy.renewFraction) };
}

/**
 * The ca.crt after a CA rotation: the new CA first, then the earlier ones
 * that have not expired (at most `keep`), so certificates they signed still
 * verify until every replica serves one from the new CA.
 */
export function rotateBundle(newCA: string, previousBundle: string, nowMs: number, keep = 2): string {
  const fresh = normalisePem(newCA);
  const earlier = splitPemCerts(previousBundle)
    .filter((pem) => pem !== fresh)
    .filter((pem) => {
      const cert = parseCert(pem);
      return !!cert && cert.validToDate.getTime() > nowMs;
    })
    .slice(0, keep);
  return [fresh, ...earlier].join('');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
