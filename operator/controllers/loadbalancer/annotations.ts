// The Service annotations the LoadBalancer controller reads, and MetalLB's
// spellings of them, which are accepted as aliases. Pure.
//
// Precedence: portico.io/, then metallb.io/, then metallb.universe.tf/. An alias
// in use is reported (the controller turns it into an Event suggesting the
// portico.io name); two spellings with different values are reported as a
// conflict, and the one that takes precedence is used.

export const PORTICO_PREFIX = 'portico.io/';
export const ALIAS_PREFIXES = ['metallb.io/', 'metallb.universe.tf/'] as const;

/** The annotation the controller writes: the pool a Service's addresses came from. */
export const POOL_ANNOTATION = 'portico.io/ip-pool';

export type AnnotationName = 'loadBalancerIPs' | 'address-pool' | 'allow-shared-ip';
export const ANNOTATION_NAMES: readonly AnnotationName[] = [
  'loadBalancerIPs',
  'address-pool',
  'allow-shared-ip',
];

export interface AnnotationValue {
  readonly name: AnnotationName;
  /** The key the value was read from. */
  readonly key: string;
  readonly value: string;
}

/** A MetalLB spelling in use, with the portico.io key to use instead. */
export interface AliasUse {
  readonly key: string;
  readonly suggested: string;
}

/** Two spellings of one annotation that disagree. */
export interface AnnotationConflict {
  readonly used: string;
  readonly ignored: string;
  readonly message: string;
}

export interface ServiceAnnotations {
  readonly values: Partial<Record<AnnotationName, AnnotationValue>>;
  readonly aliases: readonly AliasUse[];
  readonly conflicts: readonly AnnotationConflict[];
}

/** Every key an annotation may be spelled with, portico.io first. */
export function keysFor(name: AnnotationName): string[] {
  return [PORTICO_PREFIX, ...ALIAS_PREFIXES].map((p) => `${p}${name}`);
}

export function readAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
): ServiceAnnotations {
  const values: Partial<Record<AnnotationName, AnnotationValue>> = {};
  const aliases: AliasUse[] = [];
  const conflicts: AnnotationConflict[] = [];
  for (const name of ANNOTATION_NAMES) {
    const [own, ...others] = keysFor(name) as [string, ...string[]];
    let chosen: AnnotationValue | undefined;
    for (const key of [own, ...others]) {
      const value = annotations?.[key];
      if (value === undefined) continue;
      if (key !== own) aliases.push({ key, suggested: own });
      if (chosen === undefined) {
        chosen = { name, key, value };
      } else if (chosen.value !== value) {
        conflicts.push({
          used: chosen.key,
          ignored: key,
          message: `${key}=${JSON.stringify(value)} is ignored: ${chosen.key}=${JSON.stringify(chosen.value)} takes precedence`,
        });
      }
    }
    if (chosen !== undefined) values[name] = chosen;
  }
  return { values, aliases, conflicts };
}

/** The Event message for an alias in use. */
export function aliasMessage(a: AliasUse): string {
  return `annotation ${a.key} is accepted as an alias of ${a.suggested}; consider renaming it to ${a.suggested}`;
}
