// The validating webhook for IPAddressPool CREATE and UPDATE. It runs the same
// judgement as the status controller (schema, then parse, then overlaps
// against the other pools, oldest first) with the incoming object as the
// newest pool, so a pool that admission accepts is one the controller will
// call Ready, and of two overlapping pools the one being written is refused.
//
// The other pools come from the informer cache. Two pools written within the
// same instant can both pass (neither sees the other yet); the controller then
// flags the newer one on its status, as for pools stored while the webhook was
// down.
import { ipAddressPoolKind } from '../../crds/index.ts';
import type { FieldError } from '../../crds/index.ts';
import { jsonEqual } from '../../lib/json-equal.ts';
import { judgePools } from '../controllers/pools/status.ts';
import type { PoolObject } from '../controllers/pools/status.ts';
import { allow, deny, denyInvalid } from './admission.ts';
import type { AdmissionRequest, AdmissionResult } from './admission.ts';
import type { WebhookDefinition } from './configuration.ts';
import type { AdmissionHandler } from './server.ts';
import type { Webhook } from './index.ts';

export const VALIDATE_POOL_PATH = '/validate-ipaddresspool';

export const poolWebhookDefinition: WebhookDefinition = {
  name: `${ipAddressPoolKind.plural}.${ipAddressPoolKind.group}`,
  type: 'validating',
  path: VALIDATE_POOL_PATH,
  rules: [
    {
      apiGroups: [ipAddressPoolKind.group],
      apiVersions: [ipAddressPoolKind.version],
      resources: [ipAddressPoolKind.plural],
      operations: ['CREATE', 'UPDATE'],
      scope: 'Namespaced',
    },
  ],
  // Pools change rarely and by hand; refusing while Portico is down is safer
  // than storing an overlap. See docs/decisions/0005-webhook-certificates.md.
  failurePolicy: 'Fail',
  timeoutSeconds: 5,
  namespaces: 'portico-namespace',
};

/** Sorts after every real pool in judgePools, so the incoming pool is judged as the newest. */
const NEWEST = '9999-12-31T23:59:59Z';

export interface PoolCheck {
  errors: FieldError[];
  warnings: FieldError[];
}

/**
 * Pure: the field errors that make `incoming` unacceptable beside `existing`
 * (the pools of the same namespace; an older version of `incoming` among them
 * is ignored), and the warnings of an acceptable one.
 */
export function checkPool(incoming: unknown, existing: readonly PoolObject[], name: string): PoolCheck {
  if (typeof incoming !== 'object' || incoming === null || Array.isArray(incoming)) {
    return { errors: [{ path: '', message: 'the object is not a JSON object' }], warnings: [] };
  }
  const obj = incoming as PoolObject & Record<string, unknown>;
  const candidate: PoolObject = {
    ...obj,
    metadata: { ...(obj.metadata ?? {}), name, creationTimestamp: NEWEST },
    status: undefined,
  };
  const others = existing.filter((p) => p.metadata.name !== name);
  const judgement = judgePools([...others, candidate]);
  const errors = (judgement.errors.get(name) ?? []).map((e) => withValue(obj, e));
  const warnings = judgement.usable.find((p) => p.name === name)?.warnings ?? [];
  return { errors, warnings: [...warnings] };
}

/**
 * `spec.addresses[1]: range start is after its end` becomes
 * `spec.addresses[1]: "10.0.0.9-10.0.0.1": range start is after its end`:
 * the offending value is quoted unless the message already shows it.
 */
export function withValue(obj: unknown, error: FieldError): FieldError {
  const value = valueAt(obj, error.path);
  if (typeof value !== 'string') return error;
  const quoted = JSON.stringify(value);
  if (error.message.includes(quoted)) return error;
  return { path: error.path, message: `${quoted}: ${error.message}` };
}

/** Follows a path as crds' formatPath writes it: `spec.addresses[1]`, `a["b/c"]`. */
export function valueAt(obj: unknown, path: string): unknown {
  const segments: Array<string | number> = [];
  const re = /(?:^|\.)([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else if (m[3] !== undefined) segments.push(JSON.parse(m[3]) as string);
    consumed = re.lastIndex;
  }
  if (path === '' || consumed !== path.length) return undefined;
  let current: unknown = obj;
  for (const seg of segments) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[seg];
  }
  return current;
}

export interface PoolSource {
  list(): readonly PoolObject[];
  hasSynced(): boolean;
}

/**
 * The handler. `pools` is the informer of Portico's namespace; a pool written
 * to another namespace is checked on its own (Portico ignores it, and says so
 * in a warning).
 */
export function poolValidationHandler(pools: PoolSource, namespace: string): AdmissionHandler {
  return (request: AdmissionRequest): AdmissionResult => {
    if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow();
    const obj = request.object as { metadata?: { name?: string; deletionTimestamp?: string } } | undefined;
    // Never stand in the way of deleting (finalizers are removed by UPDATE), and
    // let metadata-only changes through on a pool that is already stored, even
    // an invalid one: its status says what is wrong, and blocking a label
    // change would not fix it.
    if (request.operation === 'UPDATE') {
      const old = request.oldObject as { spec?: unknown } | undefined;
      if (obj?.metadata?.deletionTimestamp) return allow();
      if (old && jsonEqual((obj as { spec?: unknown } | undefined)?.spec, old.spec)) return allow();
    }
    const name = obj?.metadata?.name || request.name || '';
    const ours = request.namespace === namespace;
    if (ours && !pools.hasSynced()) {
      return deny(`Portico has not loaded the IPAddressPools of ${namespace} yet; retry in a moment`, {
        code: 503,
        reason: 'ServiceUnavailable',
      });
    }
    const check = checkPool(request.object, ours ? pools.list() : [], name);
    const warnings = check.warnings.map((w) => (w.path ? `${w.path}: ${w.message}` : w.message));
    if (!ours) {
      warnings.push(
        `Portico only uses IPAddressPools in namespace ${JSON.stringify(namespace)}; this one will be ignored`,
      );
    }
    if (check.errors.length > 0) return denyInvalid(check.errors, warnings);
    return allow(warnings);
  };
}

/** The pool validator, ready to `add()` to the operator's AdmissionWebhooks. */
export function poolValidationWebhook(pools: PoolSource, namespace: string): Webhook {
  return { definition: poolWebhookDefinition, handler: poolValidationHandler(pools, namespace) };
}
