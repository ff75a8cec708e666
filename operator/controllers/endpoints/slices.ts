// Pure: the EndpointSlice planner. From the addresses to publish and the
// slices this owner already has, to the fewest creates, updates and deletes,
// in the spirit of Kubernetes' EndpointSlice reconciler:
//   1. every address stays in the slice that already holds it;
//   2. slices left empty are deleted, changed ones updated, others untouched;
//   3. new addresses fill slices already being updated, then slices with
//      room, then new slices of at most maxPerSlice endpoints;
//   4. one address family per slice.
import { compareAddress } from './backends.ts';
import type { DesiredEndpoint } from './backends.ts';
import type { SlicePort } from './binding.ts';
import type { AddressFamily } from './resolution.ts';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
// A label value cannot hold a "/", so not "portico.io/servicebackends"; shaped like
// Kubernetes' own "endpointslice-controller.k8s.io".
export const MANAGED_BY = 'servicebackends.portico.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  [field: string]: unknown;
}

export interface SlicePortWire {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSlice {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    resourceVersion?: string;
    [field: string]: unknown;
  };
  addressType: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: SlicePortWire[] | null;
}

export interface SlicePlanInput {
  namespace: string;
  serviceName: string;
  owner: OwnerReference;
  ports: readonly SlicePort[];
  endpoints: readonly DesiredEndpoint[];
  /** The slices this owner controls now. */
  existing: readonly EndpointSlice[];
  /** Names not to create (every slice name known in the namespace). */
  takenNames?: ReadonlySet<string>;
  maxPerSlice?: number;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

const FAMILIES: readonly AddressFamily[] = ['IPv4', 'IPv6'];

/** Slice names: `<owner>-ipv4-<n>`, shortened with a hash when the owner name is long. */
export function sliceName(owner: string, family: AddressFamily, index: number): string {
  return `${shortenName(owner, 240)}-${family.toLowerCase()}-${index}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: a stable suffix for shortened names. */
export function nameHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** `name` when at most `max` long, else a prefix, "-", and a hash of the whole name. */
export function shortenName(name: string, max: number): string {
  if (name.length <= max) return name;
  const prefix = name.slice(0, max - 9).replace(/[^a-z0-9]+$/, '');
  return `${prefix}-${nameHash(name)}`;
}

function endpointOf(d: DesiredEndpoint): SliceEndpoint {
  return { addresses: [d.address], conditions: { ready: d.ready, serving: d.ready, terminating: false } };
}

const portsWire = (ports: readonly SlicePort[]): SlicePortWire[] =>
  ports.map((p) => ({
    name: p.name,
    port: p.port,
    protocol: p.protocol,
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
  }));

const portKey = (ports: readonly SlicePortWire[] | null | undefined): string =>
  JSON.stringify(
    (ports ?? [])
      .map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? ''])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );

const endpointKey = (e: SliceEndpoint): string =>
  JSON.stringify([
    e.addresses,
    e.conditions?.ready ?? null,
    e.conditions?.serving ?? null,
    e.conditions?.terminating ?? null,
  ]);

const sameEndpoints = (a: readonly SliceEndpoint[], b: readonly SliceEndpoint[]): boolean => {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(endpointKey));
  return b.every((e) => keys.has(endpointKey(e)));
};

export function sliceLabels(serviceName: string): Record<string, string> {
  return { [SERVICE_NAME_LABEL]: serviceName, [MANAGED_BY_LABEL]: MANAGED_BY };
}

function metadataCurrent(slice: EndpointSlice, input: SlicePlanInput): boolean {
  const labels = slice.metadata.labels ?? {};
  const wanted = sliceLabels(input.serviceName);
  const refs = slice.metadata.ownerReferences ?? [];
  return (
    Object.entries(wanted).every(([k, v]) => labels[k] === v) &&
    refs.some((r) => r.uid === input.owner.uid && r.controller === true)
  );
}

function withMetadata(slice: EndpointSlice, input: SlicePlanInput): EndpointSlice['metadata'] {
  const others = (slice.metadata.ownerReferences ?? []).filter((r) => r.uid !== input.owner.uid);
  return {
    ...slice.metadata,
    labels: { ...slice.metadata.labels, ...sliceLabels(input.serviceName) },
    ownerReferences: [...others, { ...input.owner, controller: true }],
  };
}

const byAddress = (a: SliceEndpoint, b: SliceEndpoint): number =>
  compareAddress(a.addresses[0] ?? '', b.addresses[0] ?? '');

export function planSlices(input: SlicePlanInput): SlicePlan {
  const max = input.maxPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const wantedPorts = portsWire(input.ports);
  const taken = new Set([...(input.takenNames ?? []), ...input.existing.map((s) => s.metadata.name ?? '')]);
  const sorted = [...input.existing].sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  for (const s of sorted) if (!FAMILIES.includes(s.addressType as AddressFamily)) plan.delete.push(s);

  for (const family of FAMILIES) {
    const desired = new Map(input.endpoints.filter((e) => e.family === family).map((e) => [e.address, e]));
    const placed = new Set<string>();
    // 1. Keep each address where it is.
    const kept: { slice: EndpointSlice; endpoints: SliceEndpoint[]; changed: boolean }[] = [];
    for (const slice of sorted.filter((s) => s.addressType === family)) {
      const current = slice.endpoints ?? [];
      const endpoints: SliceEndpoint[] = [];
      for (const e of current) {
        const address = e.addresses[0];
        const d = address === undefined ? undefined : desired.get(address);
        if (!d || placed.has(d.address) || e.addresses.length !== 1) continue;
        placed.add(d.address);
        endpoints.push(endpointOf(d));
      }
      if (endpoints.length === 0) {
        plan.delete.push(slice);
        continue;
      }
      const changed =
        !sameEndpoints(current, endpoints) ||
        portKey(slice.ports) !== portKey(wantedPorts) ||
        !metadataCurrent(slice, input);
      kept.push({ slice, endpoints, changed });
    }
    // 2. Place the new addresses: slices being updated first, then any with room.
    const pending = [...desired.values()].filter((d) => !placed.has(d.address)).map(endpointOf);
    const fill = (target: { endpoints: SliceEndpoint[]; changed: boolean }) => {
      while (pending.length > 0 && target.endpoints.length < max) {
        target.endpoints.push(pending.shift()!);
        target.changed = true;
      }
    };
    for (const k of kept) if (k.changed) fill(k);
    for (const k of kept) if (!k.changed) fill(k);
    for (const k of kept) {
      if (!k.changed) continue;
      plan.update.push({
        ...k.slice,
        metadata: withMetadata(k.slice, input),
        endpoints: [...k.endpoints].sort(byAddress),
        ports: wantedPorts,
      });
    }
    // 3. New slices for the rest.
    let index = 0;
    while (pending.length > 0) {
      while (taken.has(sliceName(input.owner.name, family, index))) index++;
      const name = sliceName(input.owner.name, family, index);
      taken.add(name);
      plan.create.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name,
          namespace: input.namespace,
          labels: sliceLabels(input.serviceName),
          ownerReferences: [{ ...input.owner, controller: true }],
        },
        addressType: family,
        endpoints: pending.splice(0, max).sort(byAddress),
        ports: wantedPorts,
      });
    }
  }
  return plan;
}

export const emptyPlan = (p: SlicePlan): boolean =>
  p.create.length === 0 && p.update.length === 0 && p.delete.length === 0;
