// The part every kind shares: metadata moved to the target namespace, the
// spec checked with Portico's own validator, and every source field Portico
// does not have reported by path. Pure.
//
// Unknown fields are found by comparing the source spec with what the zod
// validator returns: the schemas strip keys they do not know, so a key present
// in the source and absent from the parsed value is a field Portico lacks.
import { API_VERSION } from '../../crds/index.ts';
import type { ValidationResult } from '../../crds/index.ts';
import { isRecord } from './input.ts';
import type { MetalLBObject } from './input.ts';
import type { Issues, OutputObject } from './report.ts';

export interface Context {
  /** The Portico namespace the objects go to. */
  readonly namespace: string;
  readonly issues: Issues;
}

export type Validator = (obj: unknown) => ValidationResult<unknown>;

/** Annotations that describe the source object's history, not its meaning. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

export function outputMetadata(src: MetalLBObject, namespace: string): OutputObject['metadata'] {
  const annotations = Object.fromEntries(
    Object.entries(src.metadata.annotations ?? {}).filter(([k]) => !DROPPED_ANNOTATIONS.has(k)),
  );
  return {
    name: src.metadata.name,
    namespace,
    // Labels are kept: ipAddressPoolSelectors select pools by them.
    ...(src.metadata.labels && Object.keys(src.metadata.labels).length > 0
      ? { labels: { ...src.metadata.labels } }
      : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/**
 * `source` without the keys `parsed` lacks, and the paths of those keys.
 * Arrays are compared item by item; scalars are kept as they are.
 */
export function prune(source: unknown, parsed: unknown, path: string): { value: unknown; dropped: string[] } {
  if (Array.isArray(source) && Array.isArray(parsed)) {
    const dropped: string[] = [];
    const value = source.map((item, i) => {
      const r = prune(item, parsed[i], `${path}[${i}]`);
      dropped.push(...r.dropped);
      return r.value;
    });
    return { value, dropped };
  }
  if (isRecord(source) && isRecord(parsed)) {
    const dropped: string[] = [];
    const value: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(source)) {
      const p = path === '' ? k : `${path}.${k}`;
      if (!(k in parsed)) {
        dropped.push(p);
        continue;
      }
      const r = prune(v, parsed[k], p);
      dropped.push(...r.dropped);
      value[k] = r.value;
    }
    return { value, dropped };
  }
  return { value: source, dropped: [] };
}

/** Rewrites a field path reported by a validator (`spec.x`) under the source's prefix. */
export function sourcePath(src: MetalLBObject, path: string): string {
  return path.startsWith('spec') ? `${src.fieldPrefix}${path.slice('spec'.length)}` : path;
}

/**
 * Builds the Portico object of `kind` from `spec`. Fields Portico lacks are
 * reported as errors and left out; a spec Portico rejects is reported field by
 * field and the object is not emitted (the apiserver would refuse it).
 */
export function buildObject(
  src: MetalLBObject,
  kind: string,
  spec: Record<string, unknown>,
  validate: Validator,
  ctx: Context,
): OutputObject | undefined {
  const candidate: OutputObject = {
    apiVersion: API_VERSION,
    kind,
    metadata: outputMetadata(src, ctx.namespace),
    spec,
  };
  const result = validate(candidate);
  if (!result.ok) {
    for (const e of result.errors) {
      ctx.issues.error(
        src.origin,
        sourcePath(src, e.path) || undefined,
        `${e.message} (Portico rejects it; not converted)`,
      );
    }
    return undefined;
  }
  const parsedSpec = (result.value as { spec: unknown }).spec;
  const { value, dropped } = prune(spec, parsedSpec, 'spec');
  for (const p of dropped) {
    ctx.issues.error(src.origin, sourcePath(src, p), `Portico's ${kind} has no such field; left out`);
  }
  return { ...candidate, spec: value as Record<string, unknown> };
}
