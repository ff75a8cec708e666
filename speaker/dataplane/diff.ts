// The minimal batch that turns an observed state into a desired one, and the
// function that applies a batch to a state (what a backend does to the
// kernel). Virtual services and endpoints are matched by key; a virtual
// service that is identical on both sides appears nowhere in the batch.
import { compareEndpoints, compareStrings, endpointKey } from './types.ts';
import type { DesiredState, Endpoint, VirtualService } from './types.ts';

export interface EndpointChanges {
  readonly add: readonly Endpoint[];
  /** Same ip:port, different weight, locality or terminating flag. */
  readonly update: readonly Endpoint[];
  readonly remove: readonly Endpoint[];
}

export interface ServiceUpdate {
  /** The desired virtual service, in full. */
  readonly service: VirtualService;
  /** Something other than the endpoint list differs (scheduler, affinity, policies, noEndpoints...). */
  readonly attributesChanged: boolean;
  readonly endpoints: EndpointChanges;
}

export interface Batch {
  readonly add: readonly VirtualService[];
  readonly update: readonly ServiceUpdate[];
  readonly remove: readonly VirtualService[];
}

/** The fields of a virtual service besides its key and endpoints. */
const ATTRIBUTES = [
  'service',
  'portName',
  'kind',
  'family',
  'vip',
  'port',
  'protocol',
  'scheduler',
  'affinity',
  'externalLocal',
  'internalLocal',
  'noEndpoints',
] as const satisfies readonly (keyof VirtualService)[];

function sameAttributes(a: VirtualService, b: VirtualService): boolean {
  return ATTRIBUTES.every((f) =>
    f === 'affinity' ? a.affinity?.timeoutSeconds === b.affinity?.timeoutSeconds : a[f] === b[f],
  );
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.weight === b.weight && a.local === b.local && a.terminating === b.terminating;
}

export function diffEndpoints(desired: readonly Endpoint[], observed: readonly Endpoint[]): EndpointChanges {
  const have = new Map(observed.map((ep) => [endpointKey(ep), ep]));
  const want = new Set<string>();
  const add: Endpoint[] = [];
  const update: Endpoint[] = [];
  for (const ep of desired) {
    const key = endpointKey(ep);
    want.add(key);
    const old = have.get(key);
    if (!old) add.push(ep);
    else if (!sameEndpoint(ep, old)) update.push(ep);
  }
  const remove = observed.filter((ep) => !want.has(endpointKey(ep)));
  return { add, update, remove };
}

function endpointsChanged(c: EndpointChanges): boolean {
  return c.add.length + c.update.length + c.remove.length > 0;
}

export function diff(desired: DesiredState, observed: DesiredState): Batch {
  const have = new Map(observed.services.map((vs) => [vs.key, vs]));
  const want = new Set<string>();
  const add: VirtualService[] = [];
  const update: ServiceUpdate[] = [];
  for (const vs of desired.services) {
    want.add(vs.key);
    const old = have.get(vs.key);
    if (!old) {
      add.push(vs);
      continue;
    }
    const attributesChanged = !sameAttributes(vs, old);
    const endpoints = diffEndpoints(vs.endpoints, old.endpoints);
    if (attributesChanged || endpointsChanged(endpoints))
      update.push({ service: vs, attributesChanged, endpoints });
  }
  const remove = observed.services.filter((vs) => !want.has(vs.key));
  return { add, update, remove };
}

export function isEmptyBatch(batch: Batch): boolean {
  return batch.add.length + batch.update.length + batch.remove.length === 0;
}

/** Keys of the virtual services a batch touches. */
export function touchedKeys(batch: Batch): Set<string> {
  return new Set([...batch.add, ...batch.update.map((u) => u.service), ...batch.remove].map((vs) => vs.key));
}

function applyEndpointChanges(endpoints: readonly Endpoint[], c: EndpointChanges): Endpoint[] {
  const byKey = new Map(endpoints.map((ep) => [endpointKey(ep), ep]));
  for (const ep of c.remove) byKey.delete(endpointKey(ep));
  for (const ep of [...c.add, ...c.update]) byKey.set(endpointKey(ep), ep);
  return [...byKey.values()].sort(compareEndpoints);
}

/**
 * The state after applying `batch` to `observed`. Updates apply attribute
 * changes and endpoint changes separately (not by copying the desired
 * service), so that `applyBatch(b, diff(a, b))` equal to `a` tests both.
 */
export function applyBatch(observed: DesiredState, batch: Batch): DesiredState {
  const byKey = new Map(observed.services.map((vs) => [vs.key, vs]));
  for (const vs of batch.remove) byKey.delete(vs.key);
  for (const vs of batch.add) byKey.set(vs.key, vs);
  for (const u of batch.update) {
    const old = byKey.get(u.service.key);
    if (!old) throw new Error(`applyBatch: update of ${u.service.key}, which is not in the state`);
    const base = u.attributesChanged ? { ...u.service, key: old.key } : old;
    byKey.set(old.key, { ...base, endpoints: applyEndpointChanges(old.endpoints, u.endpoints) });
  }
  return { services: [...byKey.values()].sort((a, b) => compareStrings(a.key, b.key)) };
}
