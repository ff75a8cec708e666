// Kubernetes label selectors (metav1.LabelSelector) as pure functions:
// validation with field-named errors, matching, and canonical strings.
//
// Semantics follow apimachinery's LabelSelectorAsSelector:
// - matchLabels and matchExpressions are ANDed; an empty selector ({}) matches
//   everything.
// - In: the label is present and its value is one of `values`.
// - NotIn: the label is absent, or present with a value not in `values`.
// - Exists / DoesNotExist: presence of the key; `values` must be empty.
// - In and NotIn need at least one value.

import { fieldError, quote } from './errors.ts';
import type { FieldError } from './errors.ts';

export type Labels = Readonly<Record<string, string>>;

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export const SELECTOR_OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problem with a label key (a qualified name: optional DNS prefix, "/", name), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      return `${quote(key)} has an invalid prefix: it must be a lowercase DNS subdomain of at most 253 characters`;
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    return `${quote(key)} is not a valid label key: the name part must be 1-63 alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric`;
  }
  return undefined;
}

/** Problem with a label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_PART.test(value)) {
    return `${quote(value)} is not a valid label value: at most 63 alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric`;
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate a label selector found at `path`; returns every problem found. */
export function validateLabelSelector(selector: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!isPlainObject(selector)) return [fieldError(path, 'must be a label selector object')];
  for (const field of Object.keys(selector)) {
    if (field !== 'matchLabels' && field !== 'matchExpressions') {
      errors.push(fieldError(`${path}.${field}`, 'unknown field in a label selector'));
    }
  }
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels !== undefined) {
    if (!isPlainObject(matchLabels)) {
      errors.push(fieldError(`${path}.matchLabels`, 'must be a map of label keys to values'));
    } else {
      for (const [k, v] of Object.entries(matchLabels)) {
        const kp = labelKeyProblem(k);
        if (kp !== undefined) errors.push(fieldError(`${path}.matchLabels`, kp));
        if (typeof v !== 'string') {
          errors.push(fieldError(`${path}.matchLabels[${quote(k)}]`, 'must be a string'));
        } else {
          const vp = labelValueProblem(v);
          if (vp !== undefined) errors.push(fieldError(`${path}.matchLabels[${quote(k)}]`, vp));
        }
      }
    }
  }
  if (matchExpressions !== undefined) {
    if (!Array.isArray(matchExpressions)) {
      errors.push(fieldError(`${path}.matchExpressions`, 'must be a list'));
    } else {
      const seen = new Set<string>();
      matchExpressions.forEach((req: unknown, i) => {
        const p = `${path}.matchExpressions[${i}]`;
        const reqErrors = validateRequirement(req, p);
        errors.push(...reqErrors);
        if (reqErrors.length === 0) {
          const canon = requirementString(req as LabelSelectorRequirement);
          if (seen.has(canon)) errors.push(fieldError(p, `duplicate requirement ${quote(canon)}`));
          seen.add(canon);
        }
      });
    }
  }
  return errors;
}

function validateRequirement(req: unknown, path: string): FieldError[] {
  if (!isPlainObject(req)) return [fieldError(path, 'must be an object with key, operator and values')];
  const errors: FieldError[] = [];
  const { key, operator, values } = req;
  if (typeof key !== 'string') {
    errors.push(fieldError(`${path}.key`, 'must be a string'));
  } else {
    const kp = labelKeyProblem(key);
    if (kp !== undefined) errors.push(fieldError(`${path}.key`, kp));
  }
  if (!SELECTOR_OPERATORS.includes(operator as SelectorOperator)) {
    errors.push(
      fieldError(`${path}.operator`, `${quote(operator)} is not one of ${SELECTOR_OPERATORS.join(', ')}`),
    );
    return errors;
  }
  if (values !== undefined && !Array.isArray(values)) {
    errors.push(fieldError(`${path}.values`, 'must be a list of strings'));
    return errors;
  }
  const list: unknown[] = values ?? [];
  if (operator === 'In' || operator === 'NotIn') {
    if (list.length === 0)
      errors.push(fieldError(`${path}.values`, `must be non-empty for operator ${operator}`));
  } else if (list.length > 0) {
    errors.push(fieldError(`${path}.values`, `must be empty for operator ${operator}`));
  }
  const seen = new Set<string>();
  list.forEach((v, i) => {
    if (typeof v !== 'string') {
      errors.push(fieldError(`${path}.values[${i}]`, 'must be a string'));
      return;
    }
    const vp = labelValueProblem(v);
    if (vp !== undefined) errors.push(fieldError(`${path}.values[${i}]`, vp));
    if (seen.has(v)) errors.push(fieldError(`${path}.values[${i}]`, `duplicate value ${quote(v)}`));
    seen.add(v);
  });
  return errors;
}

/** Whether a (valid) selector matches the labels. Missing labels count as no labels. */
export function matchesLabelSelector(selector: LabelSelector, labels: Labels | undefined): boolean {
  const have = labels ?? {};
  const get = (k: string): string | undefined => (Object.hasOwn(have, k) ? have[k] : undefined);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (get(k) !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const value = get(req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function requirementString(req: LabelSelectorRequirement): string {
  const values = [...(req.values ?? [])].sort();
  switch (req.operator) {
    case 'Exists':
      return req.key;
    case 'DoesNotExist':
      return `!${req.key}`;
    case 'In':
      return `${req.key} in (${values.join(',')})`;
    case 'NotIn':
      return `${req.key} notin (${values.join(',')})`;
  }
}

/** A canonical string for a selector: equal strings mean equal selectors. */
export function labelSelectorString(selector: LabelSelector): string {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector.matchExpressions ?? []).map(requirementString),
  ];
  return [...new Set(parts)].sort().join(',');
}

/** Canonical `k1=v1,k2=v2` form of a label map, keys sorted. */
export function labelsString(labels: Labels | undefined): string {
  return Object.entries(labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
