// Which nodes may announce, before liveness: the Node's own state, and the
// nodes with a local endpoint for externalTrafficPolicy Local. Pure.
import type { V1EndpointSlice, V1Node } from '@kubernetes/client-node';

export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Why a node may never announce, or undefined when it may. */
export function nodeIneligible(node: V1Node): string | undefined {
  if (node.metadata?.labels && Object.hasOwn(node.metadata.labels, EXCLUDE_LABEL)) {
    return `labelled ${EXCLUDE_LABEL}`;
  }
  const conditions = node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return 'not Ready';
  if (conditions.some((c) => c.type === 'NetworkUnavailable' && c.status === 'True')) {
    return 'NetworkUnavailable';
  }
  return undefined;
}

/**
 * Nodes hosting an endpoint of the Service that is ready or serving (unset
 * ready means ready and unset serving means ready, as the API defines them).
 */
export function nodesWithLocalEndpoints(
  slices: readonly V1EndpointSlice[],
  namespace: string,
  name: string,
): Set<string> {
  const nodes = new Set<string>();
  for (const s of slices) {
    if (s.metadata?.namespace !== namespace || s.metadata?.labels?.[SERVICE_NAME_LABEL] !== name) continue;
    for (const e of s.endpoints ?? []) {
      if (!e.nodeName || (e.addresses ?? []).length === 0) continue;
      const ready = e.conditions?.ready !== false;
      const serving = e.conditions?.serving ?? ready;
      if (ready || serving) nodes.add(e.nodeName);
    }
  }
  return nodes;
}

/** The address heartbeats are sent to: the first InternalIP, else the first ExternalIP. */
export function nodeAddresses(node: V1Node): string[] {
  const addrs = node.status?.addresses ?? [];
  const pick = (type: string) => addrs.filter((a) => a.type === type).map((a) => a.address);
  return [...pick('InternalIP'), ...pick('ExternalIP')];
}
