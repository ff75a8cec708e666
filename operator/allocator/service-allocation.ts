// `serviceAllocation` (priority, namespaces, namespaceSelectors,
// serviceSelectors), shared by IPAddressPool and NodePortPool: parsing,
// whether a pool admits a Service, and the order in which pools are tried.
//
// Semantics (MetalLB's, made explicit):
// - A pool admits a Service when
//     (no namespaces and no namespaceSelectors, or the namespace is listed, or
//      the namespace's labels match one of the namespaceSelectors)
//   and (no serviceSelectors, or the Service's labels match one of them).
//   A serviceAllocation with no lists at all admits every Service.
//   A pool without serviceAllocation admits every Service.
// - Automatic assignment first tries the pools whose serviceAllocation admits
//   the Service ("pinned" pools), then the pools without serviceAllocation.
//   Only pools with autoAssign take part. A pool with a serviceAllocation that
//   does not admit the Service is never used for it automatically.
// - Pinned pools are ordered by priority: a lower number is a higher priority;
//   priority 0 or unset means "no priority" and comes after every pool with a
//   priority (MetalLB treats 0 as unset the same way). MetalLB breaks ties at
//   random; we break them by pool name so that results are reproducible.
// - Negative priorities are rejected (MetalLB's CRD has no minimum, but its
//   sort treats them inconsistently).
// - Duplicate namespaces or duplicate selectors are errors, as in MetalLB.

import { err, fieldError, ok, quote } from './errors.ts';
import type { FieldError, Result } from './errors.ts';
import { labelSelectorString, matchesLabelSelector, validateLabelSelector } from './selector.ts';
import type { LabelSelector, Labels } from './selector.ts';

export interface ServiceAllocationSpec {
  readonly priority?: number;
  readonly namespaces?: readonly string[];
  readonly namespaceSelectors?: readonly LabelSelector[];
  readonly serviceSelectors?: readonly LabelSelector[];
}

export interface ServiceAllocation {
  /** undefined when unset or 0: the pool has no priority. */
  readonly priority: number | undefined;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** The Service facts that pool selection looks at. */
export interface ServiceSubject {
  readonly namespace: string;
  readonly namespaceLabels?: Labels;
  readonly serviceLabels?: Labels;
}

/** The pool facts that pool selection looks at. */
export interface SelectablePool {
  readonly name: string;
  readonly autoAssign: boolean;
  readonly serviceAllocation: ServiceAllocation | undefined;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSelectorList(value: unknown, path: string, errors: FieldError[]): LabelSelector[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push(fieldError(path, 'must be a list of label selectors'));
    return [];
  }
  const out: LabelSelector[] = [];
  const seen = new Map<string, number>();
  value.forEach((sel: unknown, i) => {
    const p = `${path}[${i}]`;
    const selErrors = validateLabelSelector(sel, p);
    if (selErrors.length > 0) {
      errors.push(...selErrors);
      return;
    }
    const s = sel as LabelSelector;
    const canon = labelSelectorString(s);
    const prev = seen.get(canon);
    if (prev !== undefined) errors.push(fieldError(p, `duplicates ${path}[${prev}]`));
    else seen.set(canon, i);
    out.push(s);
  });
  return out;
}

/** Parse a serviceAllocation found at `path` (e.g. `spec.serviceAllocation`). */
export function parseServiceAllocation(
  spec: unknown,
  path: string,
): Result<ServiceAllocation | undefined, FieldError[]> {
  if (spec === undefined || spec === null) return ok(undefined);
  if (!isPlainObject(spec)) return err([fieldError(path, 'must be an object')]);
  const errors: FieldError[] = [];
  for (const field of Object.keys(spec)) {
    if (!['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors'].includes(field)) {
      errors.push(fieldError(`${path}.${field}`, 'unknown field'));
    }
  }
  let priority: number | undefined;
  if (spec.priority !== undefined && spec.priority !== null) {
    const p = spec.priority;
    if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0) {
      errors.push(fieldError(`${path}.priority`, `${quote(p)} must be a non-negative integer`));
    } else if (p > 0) {
      priority = p;
    }
  }
  const namespaces: string[] = [];
  if (spec.namespaces !== undefined && spec.namespaces !== null) {
    if (!Array.isArray(spec.namespaces)) {
      errors.push(fieldError(`${path}.namespaces`, 'must be a list of namespace names'));
    } else {
      spec.namespaces.forEach((ns: unknown, i) => {
        const p = `${path}.namespaces[${i}]`;
        if (typeof ns !== 'string' || ns.length > 63 || !DNS1123_LABEL.test(ns)) {
          errors.push(fieldError(p, `${quote(ns)} is not a valid namespace name`));
        } else if (namespaces.includes(ns)) {
          errors.push(fieldError(p, `duplicate namespace ${quote(ns)}`));
        } else {
          namespaces.push(ns);
        }
      });
    }
  }
  const namespaceSelectors = parseSelectorList(spec.namespaceSelectors, `${path}.namespaceSelectors`, errors);
  const serviceSelectors = parseSelectorList(spec.serviceSelectors, `${path}.serviceSelectors`, errors);
  if (errors.length > 0) return err(errors);
  return ok({ priority, namespaces, namespaceSelectors, serviceSelectors });
}

/** Whether a pool with this serviceAllocation may serve the Service. */
export function admits(allocation: ServiceAllocation | undefined, subject: ServiceSubject): boolean {
  if (allocation === undefined) return true;
  const { namespaces, namespaceSelectors, serviceSelectors } = allocation;
  if (namespaces.length > 0 || namespaceSelectors.length > 0) {
    const nsOk =
      namespaces.includes(subject.namespace) ||
      namespaceSelectors.some((s) => matchesLabelSelector(s, subject.namespaceLabels));
    if (!nsOk) return false;
  }
  if (serviceSelectors.length > 0) {
    return serviceSelectors.some((s) => matchesLabelSelector(s, subject.serviceLabels));
  }
  return true;
}

function byName(a: SelectablePool, b: SelectablePool): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function byPriority(a: SelectablePool, b: SelectablePool): number {
  const pa = a.serviceAllocation?.priority;
  const pb = b.serviceAllocation?.priority;
  if (pa !== undefined && pb !== undefined && pa !== pb) return pa - pb;
  if (pa !== undefined && pb === undefined) return -1;
  if (pa === undefined && pb !== undefined) return 1;
  return byName(a, b);
}

/**
 * The pools automatic assignment tries for a Service, as two groups in order:
 * `pinned` (autoAssign pools whose serviceAllocation admits it, by priority)
 * then `fallback` (autoAssign pools without serviceAllocation, by name).
 * MetalLB picks the best pool within the first group before looking at the
 * second, which matters for PreferDualStack.
 */
export function candidatePools<P extends SelectablePool>(
  pools: Iterable<P>,
  subject: ServiceSubject,
): { pinned: P[]; fallback: P[] } {
  const pinned: P[] = [];
  const fallback: P[] = [];
  for (const p of pools) {
    if (!p.autoAssign) continue;
    if (p.serviceAllocation === undefined) fallback.push(p);
    else if (admits(p.serviceAllocation, subject)) pinned.push(p);
  }
  return { pinned: pinned.sort(byPriority), fallback: fallback.sort(byName) };
}

/** Split a `namespace/name` Service key. */
export function splitServiceKey(key: string): { namespace: string; name: string } | undefined {
  if (typeof key !== 'string') return undefined;
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1 || key.indexOf('/', slash + 1) !== -1) return undefined;
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
