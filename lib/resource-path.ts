// REST paths for a resource, built from group/version/plural so no discovery
// round trip is needed (the object API's path lookup asks the apiserver).

export interface ResourceType {
  /** "" for the core group (Services, ConfigMaps, ...). */
  group: string;
  version: string;
  /** Lower-case plural, e.g. "services", "ipaddresspools". */
  plural: string;
}

export interface ResourceRef extends ResourceType {
  /** Omit for cluster-scoped resources. */
  namespace?: string;
  name: string;
}

/** Collection path; with no namespace on a namespaced type it lists all namespaces. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const root = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${ns}/${type.plural}`;
}

export function objectPath(ref: ResourceRef): string {
  return `${collectionPath(ref, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}

/** The cache and work-queue key: "namespace/name", or "name" when cluster-scoped. */
export function objectKey(meta: { namespace?: string | undefined; name?: string | undefined }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name ?? ''}` : (meta.name ?? '');
}

/** Inverse of objectKey. */
export function parseObjectKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
