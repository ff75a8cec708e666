// The Kubernetes side of the L2 tests: Node objects (there is no kubelet, so
// the test creates them, sets Ready and addresses, and renews their Leases so
// the node lifecycle controller keeps them Ready), L2Advertisements,
// EndpointSlices, and reads of ServiceL2Status and Events.
import { API_VERSION } from '../../../crds/index.ts';
import { isNotFound } from '../../../lib/errors.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { waitFor } from '../../harness/processes.ts';
import type { LabNode } from '../../harness/l2-lab.ts';

const microTime = () => new Date().toISOString().replace('Z', '000Z');

export class LabNodes {
  readonly #client: RawKubeClient;
  readonly #names: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(client: RawKubeClient) {
    this.#client = client;
  }

  async create(n: LabNode, labels: Record<string, string> = {}): Promise<void> {
    await this.#client.postJson('/api/v1/nodes', { metadata: { name: n.name, labels } });
    this.#names.push(n.name);
    await this.setReady(n.name, 'True', [
      { type: 'InternalIP', address: n.ip4 },
      { type: 'InternalIP', address: n.ip6 },
    ]);
    await this.#client.postJson(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`, {
      metadata: { name: n.name },
      spec: { holderIdentity: n.name, leaseDurationSeconds: 40, renewTime: microTime() },
    });
    if (!this.#timer) this.#timer = setInterval(() => void this.#renew(), 5000);
  }

  async setReady(
    name: string,
    status: string,
    addresses?: { type: string; address: string }[],
  ): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await this.#client.patchJson(`/api/v1/nodes/${name}/status`, {
      status: {
        conditions: [
          {
            type: 'Ready',
            status,
            reason: 'Test',
            message: 'set by the test',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        ...(addresses ? { addresses } : {}),
      },
    });
  }

  async label(name: string, labels: Record<string, string | null>): Promise<void> {
    await this.#client.patchJson(`/api/v1/nodes/${name}`, { metadata: { labels } });
  }

  async #renew(): Promise<void> {
    for (const name of this.#names) {
      await this.#client
        .patchJson(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, {
          spec: { renewTime: microTime() },
        })
        .catch(() => undefined);
    }
  }

  async deleteAll(): Promise<void> {
    clearInterval(this.#timer);
    for (const name of this.#names.splice(0)) {
      await this.#client.deleteJson(`/api/v1/nodes/${name}`).catch(() => undefined);
      await this.#client
        .deleteJson(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`)
        .catch(() => undefined);
    }
  }
}

export interface L2StatusObject {
  metadata: { name: string; labels?: Record<string, string> };
  status?: {
    node?: string;
    serviceName?: string;
    serviceNamespace?: string;
    ips?: string[];
    interfaces?: { name: string }[];
  };
}

export class PorticoL2 {
  readonly #client: RawKubeClient;
  readonly #ns: string;

  constructor(client: RawKubeClient, porticoNamespace: string) {
    this.#client = client;
    this.#ns = porticoNamespace;
  }

  #path(plural: string, name?: string): string {
    return `/apis/portico.io/v1alpha1/namespaces/${this.#ns}/${plural}${name ? `/${name}` : ''}`;
  }

  async advertisement(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.#client.postJson(this.#path('l2advertisements'), {
      apiVersion: API_VERSION,
      kind: 'L2Advertisement',
      metadata: { name },
      spec,
    });
  }

  async deleteAdvertisement(name: string): Promise<void> {
    await this.#client.deleteJson(this.#path('l2advertisements', name)).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  async statuses(serviceName: string): Promise<L2StatusObject[]> {
    const list = await this.#client.getJson<{ items: L2StatusObject[] }>(this.#path('servicel2statuses'), {
      labelSelector: `portico.io/service-name=${serviceName}`,
    });
    return list.items;
  }

  /** Waits until exactly one ServiceL2Status names `node` for the Service, and returns it. */
  async waitStatus(serviceName: string, node: string): Promise<L2StatusObject> {
    let found: L2StatusObject | undefined;
    await waitFor(`ServiceL2Status of ${serviceName} on ${node}`, async () => {
      const items = await this.statuses(serviceName);
      found = items[0];
      return items.length === 1 && found?.status?.node === node;
    });
    return found!;
  }
}

export async function localSlice(
  client: RawKubeClient,
  namespace: string,
  service: string,
  nodeName: string,
  address = '10.244.0.5',
  port = 80,
): Promise<void> {
  await endpointSlice(client, namespace, service, [{ address, nodeName }], port);
}

/** Creates or replaces the test's own EndpointSlice of a Service: ready endpoints on the given nodes. */
export async function endpointSlice(
  client: RawKubeClient,
  namespace: string,
  service: string,
  endpoints: { address: string; nodeName: string }[],
  port: number,
): Promise<void> {
  const name = `${service}-test`;
  const body = {
    metadata: {
      name,
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': 'test.portico.io',
      },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      nodeName: e.nodeName,
      conditions: { ready: true, serving: true, terminating: false },
    })),
    ports: [{ name: 'p0', port, protocol: 'TCP' }],
  };
  const path = `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;
  try {
    const current = await client.getJson<{ metadata: { resourceVersion: string } }>(`${path}/${name}`);
    await client.putJson(`${path}/${name}`, {
      ...body,
      metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await client.postJson(path, body);
  }
}
