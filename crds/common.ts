// Pieces shared by every Portico CRD: the API group, the CEL-rule helper that
// keeps each `x-kubernetes-validations` rule next to its TypeScript twin,
// LabelSelector, metav1.Condition, durations, names, and the validator
// factory that turns zod issues into `spec.addresses[2]: message` errors.
//
// How a schema becomes a CRD: crds/generate.ts calls z.toJSONSchema on the
// spec/status schemas and post-processes the result (see crds/openapi.ts).
// Everything Kubernetes-specific that JSON Schema cannot express
// (x-kubernetes-list-type, -map-type, -validations, -int-or-string) is put
// on the zod schema with `.meta({...})` under its OpenAPI key, so the zod
// schema is the single source.

import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './net.ts';

export const GROUP = 'portico.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

// ---------------------------------------------------------------------------
// Kubernetes OpenAPI extensions carried as zod metadata

export const CEL_KEY = 'x-kubernetes-validations';

export type CelReason =
  'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';

/** One entry of `x-kubernetes-validations`, as written into the CRD. */
export interface CelValidation {
  rule: string;
  message: string;
  /** JSON path (relative to the schema node) the error is reported at, e.g. `.peerASN`. */
  fieldPath?: string;
  reason?: CelReason;
}

/**
 * A CEL rule together with the same rule in TypeScript. `check` receives the
 * parsed value (defaults applied, as the apiserver applies them before
 * validating) and returns true when the value is valid.
 */
export interface CelRule<T> extends CelValidation {
  check: (value: T) => boolean;
}

/**
 * Attaches CEL rules to a schema: each rule is written to the CRD as an
 * `x-kubernetes-validations` entry on this node, and its `check` runs as a
 * zod refinement reporting `message` at `fieldPath`. Rules accumulate when
 * called more than once.
 */
export function withCel<S extends z.ZodType>(schema: S, rules: readonly CelRule<z.output<S>>[]): S {
  const previous = celRulesOf(schema);
  const refined = schema.superRefine(
    (value, ctx) => {
      for (const r of rules) {
        let valid: boolean;
        try {
          valid = r.check(value);
        } catch {
          valid = false;
        }
        if (!valid)
          ctx.addIssue({
            code: 'custom',
            message: r.message,
            path: fieldPathToPath(r.fieldPath),
            input: value,
          });
      }
      // Only on values that passed every other check, so `check` sees well-formed
      // input and an error is not reported twice.
    },
    { when: (payload) => payload.issues.length === 0 },
  );
  const entries: CelValidation[] = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
  }));
  return refined.meta({ [CEL_KEY]: [...previous, ...entries] });
}

/** The CEL rules attached to a schema node (own and inherited). */
export function celRulesOf(schema: z.ZodType): CelValidation[] {
  const meta = schema.meta() as Record<string, unknown> | undefined;
  const rules = meta?.[CEL_KEY];
  return Array.isArray(rules) ? (rules as CelValidation[]) : [];
}

function fieldPathToPath(fieldPath: string | undefined): string[] {
  if (!fieldPath) return [];
  return fieldPath.split('.').filter((s) => s !== '');
}

export type ListType = 'atomic' | 'set' | 'map';

/**
 * Marks an array schema with `x-kubernetes-list-type` (and map keys). For
 * `set` and `map` the apiserver rejects duplicates (items, resp. key tuples);
 * the same check is added as a zod refinement.
 */
export function listType<S extends z.ZodType>(schema: S, type: ListType, mapKeys?: readonly string[]): S {
  const marked = schema.meta({
    'x-kubernetes-list-type': type,
    ...(mapKeys ? { 'x-kubernetes-list-map-keys': [...mapKeys] } : {}),
  });
  if (type === 'atomic') return marked;
  return marked.superRefine((value, ctx) => {
    if (!Array.isArray(value)) return;
    const seen = new Set<string>();
    value.forEach((item: unknown, i) => {
      const key =
        type === 'set'
          ? JSON.stringify(item)
          : JSON.stringify((mapKeys ?? []).map((k) => (item as Record<string, unknown>)[k]));
      if (seen.has(key)) {
        const what = type === 'set' ? `value ${key}` : `${(mapKeys ?? []).join('/')} ${key.slice(1, -1)}`;
        ctx.addIssue({ code: 'custom', message: `duplicate ${what}`, path: [i], input: item });
      }
      seen.add(key);
    });
  });
}

/** Marks an object schema with `x-kubernetes-map-type`. */
export function mapType<S extends z.ZodType>(schema: S, type: 'atomic' | 'granular'): S {
  return schema.meta({ 'x-kubernetes-map-type': type });
}

// ---------------------------------------------------------------------------
// Names

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** An RFC 1123 label (namespace names, port names). */
export const dnsLabel = () =>
  z
    .string()
    .max(63)
    .regex(
      DNS_LABEL,
      'must be an RFC 1123 label: lowercase letters, digits and "-", starting and ending alphanumeric',
    );

/** An RFC 1123 subdomain (object names, host names). */
export const dnsSubdomain = () =>
  z
    .string()
    .max(253)
    .regex(
      DNS_SUBDOMAIN,
      'must be an RFC 1123 subdomain: lowercase letters, digits, "-" and ".", alphanumeric at each end',
    );

/** An RFC 1035 label (Service names). */
export const dns1035Label = () =>
  z
    .string()
    .max(63)
    .regex(
      DNS_1035_LABEL,
      'must be an RFC 1035 label: lowercase letters, digits and "-", starting with a letter',
    );

/** The name of another Portico object in the same namespace. */
export const objectName = () => dnsSubdomain().min(1);

// ---------------------------------------------------------------------------
// LabelSelector (metav1.LabelSelector)

export const labelSelectorOperatorSchema = z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']);

export const labelSelectorRequirementSchema = z
  .object({
    key: z
      .string()
      .max(317)
      .regex(QUALIFIED_NAME, 'must be a label key: an optional DNS subdomain prefix and "/", then a name')
      .describe('The label key the requirement applies to.'),
    operator: labelSelectorOperatorSchema.describe("The key's relationship to the values."),
    values: listType(z.array(z.string().max(63).regex(LABEL_VALUE, 'must be a valid label value')), 'atomic')
      .optional()
      .describe('Non-empty for In and NotIn, empty or absent for Exists and DoesNotExist.'),
  })
  .describe('A label selector requirement: a key, an operator and values.')
  .superRefine((req, ctx) => {
    const n = req.values?.length ?? 0;
    if ((req.operator === 'In' || req.operator === 'NotIn') && n === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `operator ${req.operator} needs at least one value`,
        path: ['values'],
      });
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && n > 0) {
      ctx.addIssue({ code: 'custom', message: `operator ${req.operator} takes no values`, path: ['values'] });
    }
  });

export const labelSelectorSchema = mapType(
  z
    .object({
      matchLabels: z
        .record(
          z.string().max(317).regex(QUALIFIED_NAME, 'must be a label key'),
          z.string().max(63).regex(LABEL_VALUE, 'must be a valid label value'),
        )
        .optional()
        .describe('Labels that must all be present with these values.'),
      matchExpressions: listType(z.array(labelSelectorRequirementSchema), 'atomic')
        .optional()
        .describe('Requirements that must all hold.'),
    })
    .describe(
      'A label selector (metav1.LabelSelector). matchLabels and matchExpressions are ANDed; an empty selector matches everything.',
    ),
  'atomic',
);

export type LabelSelector = z.output<typeof labelSelectorSchema>;
export type LabelSelectorRequirement = z.output<typeof labelSelectorRequirementSchema>;

/** A list of label selectors; an object matches when any selector matches. */
export const labelSelectorList = (description: string) =>
  listType(z.array(labelSelectorSchema), 'atomic').optional().describe(description);

// ---------------------------------------------------------------------------
// Durations (metav1.Duration: a Go duration string)

/** Rules are written for `self` being the duration string. */
export const durationSchema = () =>
  z
    .string()
    .max(64)
    .regex(DURATION_PATTERN, { message: 'must be a duration like "90s", "1m30s" or "300ms"', abort: true })
    .refine((s) => parseDuration(s) !== undefined, 'duration is out of range');

// ---------------------------------------------------------------------------
// Conditions (metav1.Condition)

export const conditionStatusSchema = z.enum(['True', 'False', 'Unknown']);

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp (`format: date-time` in the CRD). */
export const dateTimeSchema = () =>
  z
    .string()
    .meta({ format: 'date-time' })
    .refine((s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 timestamp');

export const conditionSchema = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(
        QUALIFIED_NAME,
        'must be a CamelCase condition type, optionally prefixed by a DNS subdomain and "/"',
      )
      .describe('Type of the condition, in CamelCase (Ready, Overlap, Exhausted, ...).'),
    status: conditionStatusSchema.describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the condition was computed from.'),
    lastTransitionTime: dateTimeSchema().describe('When the condition last changed status.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, 'must be a CamelCase reason')
      .describe('A programmatic identifier for the last transition, in CamelCase.'),
    message: z.string().max(32768).describe('A human-readable message about the transition.'),
  })
  .describe('A standard Kubernetes condition (metav1.Condition).');

export type Condition = z.output<typeof conditionSchema>;
export type ConditionStatus = z.output<typeof conditionStatusSchema>;

export const conditionsSchema = () =>
  listType(z.array(conditionSchema), 'map', ['type'])
    .optional()
    .describe('Current state of the object, as standard conditions keyed by type.');

export const observedGenerationSchema = () =>
  z.int().min(0).optional().describe('The .metadata.generation the status was computed from.');

/** The status every Portico kind has: observedGeneration and conditions. */
export const baseStatusShape = () => ({
  observedGeneration: observedGenerationSchema(),
  conditions: conditionsSchema(),
});

export const basicStatusSchema = z
  .object(baseStatusShape())
  .describe('Observed state: conditions set by Portico (Ready, or Ready=False with reason Invalid).');
export type BasicStatus = z.output<typeof basicStatusSchema>;

// ---------------------------------------------------------------------------
// Shared spec pieces

export const serviceAllocationSchema = z
  .object({
    priority: z
      .int()
      .optional()
      .describe(
        'Priority of this pool among the pools that select a Service; a lower value is tried first. Pools without a priority are tried after those with one.',
      ),
    namespaces: listType(z.array(dnsLabel().min(1)), 'set')
      .optional()
      .describe('Namespaces whose Services may use this pool.'),
    namespaceSelectors: labelSelectorList('Selectors for the namespaces whose Services may use this pool.'),
    serviceSelectors: labelSelectorList('Selectors for the Services that may use this pool.'),
  })
  .describe(
    'Restricts the pool to some Services. A Service may use the pool when it matches the namespace criteria (namespaces or namespaceSelectors, when set) and the serviceSelectors (when set).',
  );
export type ServiceAllocation = z.output<typeof serviceAllocationSchema>;

export const secretReferenceSchema = z
  .object({
    name: z.string().max(253).optional().describe('Name of the Secret.'),
    namespace: z
      .string()
      .max(63)
      .optional()
      .describe('Namespace of the Secret; defaults to the object namespace.'),
  })
  .describe('A reference to a Secret (corev1.SecretReference).');
export type SecretReference = z.output<typeof secretReferenceSchema>;

// ---------------------------------------------------------------------------
// Kind definitions

export type PrinterColumnType = 'integer' | 'number' | 'string' | 'boolean' | 'date';

export interface PrinterColumn {
  name: string;
  type: PrinterColumnType;
  jsonPath: string;
  description?: string;
  /** 0 is shown by default; higher values only with `-o wide`. */
  priority?: number;
  format?: string;
}

export const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
};
export const READY_COLUMN: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};

/** What the operator needs to find a CRD: group, version, plural, kind. */
export interface CrdRef {
  /** `<plural>.<group>`, the CRD object name. */
  name: string;
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export interface KindDefinition<
  Spec extends z.ZodType = z.ZodType,
  Status extends z.ZodType = z.ZodType,
> extends CrdRef {
  listKind: string;
  singular: string;
  shortNames: readonly string[];
  categories: readonly string[];
  scope: 'Namespaced' | 'Cluster';
  description: string;
  spec: Spec;
  status: Status;
  /** When false, an object without spec is valid (spec defaults to {}). */
  specRequired: boolean;
  printerColumns: readonly PrinterColumn[];
}

export function defineKind<Spec extends z.ZodType, Status extends z.ZodType>(d: {
  kind: string;
  plural: string;
  singular?: string;
  shortNames?: readonly string[];
  scope?: 'Namespaced' | 'Cluster';
  description: string;
  spec: Spec;
  status: Status;
  specRequired: boolean;
  printerColumns: readonly PrinterColumn[];
}): KindDefinition<Spec, Status> {
  return {
    name: `${d.plural}.${GROUP}`,
    group: GROUP,
    version: VERSION,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.singular ?? d.kind.toLowerCase(),
    shortNames: d.shortNames ?? [],
    categories: ['portico'],
    scope: d.scope ?? 'Namespaced',
    description: d.description,
    spec: d.spec,
    status: d.status,
    specRequired: d.specRequired,
    printerColumns: [...d.printerColumns, AGE_COLUMN],
  };
}

// ---------------------------------------------------------------------------
// Objects and validation

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A Portico custom resource: TypeMeta, ObjectMeta, spec and status. */
export interface PorticoObject<Spec, Status> {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export interface FieldError {
  /** Dotted path from the object root, e.g. `spec.addresses[2]`. */
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats a zod issue path as `spec.addresses[2]` / `spec.matchLabels["a/b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** One line per error: `spec.addresses[2]: must be ...`. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input;
}

/** Clearer messages than zod's defaults for the issues our schemas raise. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`;
      return `must be ${expected}, not ${describeInput(issue.input)}`;
    }
    case 'too_small': {
      const inc = issue.inclusive !== false;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string') return `must be at least ${issue.minimum} character(s) long`;
      return `must be ${inc ? '>=' : '>'} ${issue.minimum}`;
    }
    case 'too_big': {
      const inc = issue.inclusive !== false;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} item(s)`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} character(s) long`;
      return `must be ${inc ? '<=' : '<'} ${issue.maximum}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.pattern ? `must match ${issue.pattern}` : `must be a valid ${issue.format}`;
    default:
      return undefined;
  }
};

/** Validates any zod schema and reports errors with dotted paths under `prefix`. */
export function validateWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: readonly PropertyKey[] = [],
): ValidationResult<z.output<S>> {
  const r = schema.safeParse(value, { error: errorMap });
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    errors: r.error.issues.map((i) => ({ path: formatPath([...prefix, ...i.path]), message: i.message })),
  };
}

const objectMetaSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  generation: z.number().optional(),
});

/**
 * Builds `validateXxx(obj)` for a kind: checks `spec` (applying defaults) and
 * returns the object with the parsed spec, or errors whose paths start at
 * the object root (`spec.addresses[2]`). `status` is written by Portico, not
 * users, so it is never a reason to reject: an unparsable status is dropped.
 */
export function makeValidator<Spec extends z.ZodType, Status extends z.ZodType>(
  def: KindDefinition<Spec, Status>,
): (obj: unknown) => ValidationResult<PorticoObject<z.output<Spec>, z.output<Status>>> {
  const spec = def.specRequired ? def.spec : def.spec.prefault({} as z.input<Spec>);
  const schema = z.looseObject({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: objectMetaSchema.optional(),
    spec,
    status: def.status.optional().catch(undefined),
  });
  return (obj) =>
    validateWith(schema, obj) as ValidationResult<PorticoObject<z.output<Spec>, z.output<Status>>>;
}
