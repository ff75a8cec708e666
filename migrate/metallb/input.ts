// Sorts the documents the command read into what the converter handles:
// metallb.io objects, MetalLB's legacy ConfigMap, Services, and the rest
// (reported, never silently skipped). Lists (`kind: List`, `*List`) are
// flattened. Pure.
import type { Issues } from './report.ts';

export const METALLB_GROUP = 'metallb.io';

/** The metallb.io kinds that carry configuration, each converted by its own module. */
export const CONFIG_KINDS = [
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'BFDProfile',
  'Community',
  'AddressPool',
] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** metallb.io kinds that MetalLB writes itself: observed state, nothing to convert. */
const STATE_KINDS = new Set([
  'ServiceL2Status',
  'ServiceBGPStatus',
  'BGPSessionState',
  'ConfigurationState',
  'ConfigurationStatus',
]);

export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A metallb.io configuration object, or one made from the legacy ConfigMap. */
export interface MetalLBObject {
  kind: ConfigKind;
  /** v1alpha1, v1beta1 or v1beta2. */
  version: string;
  metadata: Meta;
  spec: Record<string, unknown>;
  /** How the report names it, e.g. `BGPPeer metallb-system/sample`. */
  origin: string;
  /** Field paths are reported under this prefix (`spec`, or the ConfigMap key for legacy input). */
  fieldPrefix: string;
}

export interface ConfigMapDoc {
  metadata: Meta;
  data: Record<string, string>;
}

/** The fields of a core/v1 Service the converter reads. */
export interface ServiceDoc {
  metadata: Meta & { creationTimestamp?: string };
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    ipFamilies?: string[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface SortedInput {
  metallb: MetalLBObject[];
  configMaps: ConfigMapDoc[];
  services: ServiceDoc[];
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function describe(kind: string, meta: { name?: string; namespace?: string } | undefined): string {
  const name = meta?.name ?? '<unnamed>';
  return `${kind} ${meta?.namespace ? `${meta.namespace}/` : ''}${name}`;
}

function flatten(docs: readonly unknown[]): unknown[] {
  return docs.flatMap((d) =>
    isRecord(d) && typeof d.kind === 'string' && d.kind.endsWith('List') && Array.isArray(d.items)
      ? flatten(d.items)
      : [d],
  );
}

export function sortInput(docs: readonly unknown[], issues: Issues): SortedInput {
  const out: SortedInput = { metallb: [], configMaps: [], services: [] };
  flatten(docs).forEach((doc, index) => {
    if (doc === null || doc === undefined) return; // an empty YAML document
    if (!isRecord(doc) || typeof doc.kind !== 'string' || typeof doc.apiVersion !== 'string') {
      issues.warning(
        `document ${index + 1}`,
        undefined,
        'not a Kubernetes object (no apiVersion/kind): ignored',
      );
      return;
    }
    const meta = (isRecord(doc.metadata) ? doc.metadata : {}) as unknown as Meta;
    const what = describe(doc.kind, meta);
    const [group, version = ''] = doc.apiVersion.includes('/')
      ? doc.apiVersion.split('/')
      : ['', doc.apiVersion];
    if (group === '' && doc.kind === 'Service') {
      out.services.push(doc as unknown as ServiceDoc);
    } else if (group === '' && doc.kind === 'ConfigMap') {
      const data = isRecord(doc.data) ? (doc.data as Record<string, string>) : {};
      if (typeof data.config === 'string') out.configMaps.push({ metadata: meta, data });
      else
        issues.warning(
          what,
          undefined,
          'a ConfigMap without a "config" key is not MetalLB configuration: ignored',
        );
    } else if (group === METALLB_GROUP) {
      if ((CONFIG_KINDS as readonly string[]).includes(doc.kind)) {
        if (typeof meta.name !== 'string' || meta.name === '') {
          issues.error(what, 'metadata.name', 'missing: the object cannot be converted');
          return;
        }
        out.metallb.push({
          kind: doc.kind as ConfigKind,
          version,
          metadata: meta,
          spec: isRecord(doc.spec) ? doc.spec : {},
          origin: `${doc.kind} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}`,
          fieldPrefix: 'spec',
        });
      } else if (STATE_KINDS.has(doc.kind)) {
        issues.warning(what, undefined, 'state written by MetalLB, not configuration: not converted');
      } else {
        issues.error(what, undefined, `Portico has no equivalent of ${doc.apiVersion} ${doc.kind}`);
      }
    } else {
      issues.warning(
        what,
        undefined,
        `${doc.apiVersion} ${doc.kind} is neither MetalLB configuration nor a Service: ignored`,
      );
    }
  });
  return out;
}
