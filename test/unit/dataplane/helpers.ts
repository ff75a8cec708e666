// Builders for Services and EndpointSlices in the data-path tests (unit and
// e2e). Not a test file itself.
import type {
  V1Endpoint,
  V1EndpointConditions,
  V1EndpointSlice,
  V1Service,
  V1ServiceSpec,
  V1ServiceStatus,
} from '@kubernetes/client-node';
import { buildDesiredState } from '../../../speaker/dataplane/model.ts';
import type { ModelInput, NodeInfo } from '../../../speaker/dataplane/model.ts';
import type { DesiredState, VirtualService } from '../../../speaker/dataplane/types.ts';

export const NODE: NodeInfo = { name: 'node-1', addresses: ['203.0.113.1', '2001:db8:2::1'] };

export interface ServiceOptions {
  namespace?: string;
  annotations?: Record<string, string>;
  status?: V1ServiceStatus;
}

export function service(name: string, spec: V1ServiceSpec, options: ServiceOptions = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec,
    ...(options.status ? { status: options.status } : {}),
  };
}

export interface EndpointOptions extends V1EndpointConditions {
  nodeName?: string;
  addresses?: string[];
}

export function endpoint(ip: string, options: EndpointOptions = {}): V1Endpoint {
  const { nodeName, addresses, ...conditions } = options;
  return {
    addresses: addresses ?? [ip],
    conditions,
    ...(nodeName !== undefined ? { nodeName } : {}),
  };
}

export interface SlicePort {
  name?: string;
  port: number;
  protocol?: string;
}

export function slice(
  serviceName: string,
  endpoints: V1Endpoint[],
  ports: SlicePort[],
  options: { namespace?: string; name?: string; addressType?: string } = {},
): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: options.addressType ?? (endpoints[0]?.addresses[0]?.includes(':') ? 'IPv6' : 'IPv4'),
    metadata: {
      name: options.name ?? `${serviceName}-abcde`,
      namespace: options.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': serviceName },
    },
    endpoints,
    ports,
  };
}

export function model(
  services: V1Service[],
  endpointSlices: V1EndpointSlice[] = [],
  extra: Partial<ModelInput> = {},
): DesiredState {
  return buildDesiredState({ services, endpointSlices, node: NODE, ...extra }).state;
}

export function byKey(state: DesiredState, key: string): VirtualService {
  const vs = state.services.find((s) => s.key === key);
  if (!vs) throw new Error(`no virtual service ${key} in ${state.services.map((s) => s.key).join(', ')}`);
  return vs;
}

/** The seeds' three-pod ClusterIP (port 80 -> 8080), pods on this node unless said otherwise. */
export function threePods(
  name = 'web',
  nodes: [string, string, string] = [NODE.name, NODE.name, NODE.name],
  ips: [string, string, string] = ['198.51.100.11', '198.51.100.12', '198.51.100.13'],
): V1EndpointSlice {
  return slice(
    name,
    ips.map((ip, i) => endpoint(ip, { ready: true, nodeName: nodes[i] })),
    [{ name: 'http', port: 8080 }],
  );
}
