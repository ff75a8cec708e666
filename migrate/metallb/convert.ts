// The converter: metallb.io objects (and MetalLB's legacy ConfigMap) plus
// LoadBalancer Services in; portico.io/v1alpha1 objects and a report of what
// could not be mapped out. Pure: the command (migrate/main.ts) does the I/O.
import { convertBFDProfile } from './kinds/bfdprofile.ts';
import { convertBGPAdvertisement } from './kinds/bgpadvertisement.ts';
import { convertBGPPeer } from './kinds/bgppeer.ts';
import { convertCommunity } from './kinds/community.ts';
import { convertL2Advertisement } from './kinds/l2advertisement.ts';
import { convertIPAddressPool } from './kinds/pool.ts';
import { sortInput } from './input.ts';
import type { ConfigKind, MetalLBObject } from './input.ts';
import { fromAddressPool, fromConfigMap } from './legacy.ts';
import type { Context } from './object.ts';
import { checkReferences } from './references.ts';
import { Issues } from './report.ts';
import type { Converted, Issue, OutputObject } from './report.ts';
import { reservationsFor } from './services.ts';

export const DEFAULT_NAMESPACE = 'portico-system';

export interface ConvertOptions {
  /** Portico's namespace, where every output object goes. */
  namespace?: string;
}

export interface ConvertResult {
  /** Output in apply order: profiles and aliases, pools, peers, advertisements, reservations. */
  converted: Converted[];
  issues: Issue[];
  notes: string[];
  namespace: string;
  /** True when nothing was reported as unmappable. */
  complete: boolean;
}

type Converter = (src: MetalLBObject, ctx: Context) => OutputObject | undefined;

const CONVERTERS: Record<Exclude<ConfigKind, 'AddressPool'>, Converter> = {
  BFDProfile: convertBFDProfile,
  Community: convertCommunity,
  IPAddressPool: convertIPAddressPool,
  BGPPeer: convertBGPPeer,
  L2Advertisement: convertL2Advertisement,
  BGPAdvertisement: convertBGPAdvertisement,
};
const ORDER = Object.keys(CONVERTERS);

export function convertMetalLB(docs: readonly unknown[], options: ConvertOptions = {}): ConvertResult {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const issues = new Issues();
  const ctx: Context = { namespace, issues };
  const input = sortInput(docs, issues);
  const sources: MetalLBObject[] = [
    ...input.configMaps.flatMap((cm) => fromConfigMap(cm, issues)),
    ...input.metallb.flatMap((o) => (o.kind === 'AddressPool' ? fromAddressPool(o, issues) : [o])),
  ];
  const namespaces = new Set(sources.map((s) => s.metadata.namespace ?? ''));
  if (namespaces.size > 1) {
    issues.warning(
      'input',
      undefined,
      `objects come from several namespaces (${[...namespaces].join(', ')}); MetalLB reads only its own, Portico gets them all in ${namespace}`,
    );
  }
  const converted: Converted[] = [];
  const seen = new Map<string, Converted>();
  const ordered = [...sources].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  for (const src of ordered) {
    const object = CONVERTERS[src.kind as keyof typeof CONVERTERS](src, ctx);
    if (object === undefined) continue;
    const key = `${object.kind}/${object.metadata.name}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      if (JSON.stringify(earlier.object) !== JSON.stringify(object)) {
        issues.error(
          src.origin,
          'metadata.name',
          `${key} was already made from ${earlier.from}; this one is left out`,
        );
      }
      continue;
    }
    const c = {
      object,
      from: src.origin,
      ...(src.fieldPrefix !== 'spec' ? { fieldPrefix: src.fieldPrefix } : {}),
    };
    seen.set(key, c);
    converted.push(c);
  }
  checkReferences(converted, issues);
  const pools = converted.filter((c) => c.object.kind === 'IPAddressPool').map((c) => c.object);
  const services = reservationsFor(input.services, pools, ctx);
  converted.push(...services.reservations);
  return {
    converted,
    issues: issues.list,
    notes: services.notes,
    namespace,
    complete: issues.errors.length === 0,
  };
}
