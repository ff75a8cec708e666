// Small JSON helpers over the real apiserver for the endpoints tests.
import type { KubeConfig } from '@kubernetes/client-node';
import { RawKubeClient } from '../../../../lib/raw-client.ts';
import { waitFor } from '../../../harness/processes.ts';

export interface Slice {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
  addressType: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] | null;
  ports?: { name?: string; port?: number }[] | null;
}

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface SbStatus {
  conditions?: Cond[];
  backends?: { ip?: string; hostname?: string; addresses?: string[]; healthy: boolean; message?: string }[];
  healthy?: number;
  total?: number;
}

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

const SB = (ns: string) => `/apis/portico.io/v1alpha1/namespaces/${ns}/servicebackends`;
export const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

export class Kube {
  readonly client: RawKubeClient;
  readonly ns: string;

  constructor(kc: KubeConfig, ns: string) {
    this.client = RawKubeClient.fromKubeConfig(kc);
    this.ns = ns;
  }

  createNamespace = () => this.client.postJson('/api/v1/namespaces', { metadata: { name: this.ns } });
  deleteNamespace = () => this.client.deleteJson(`/api/v1/namespaces/${this.ns}`).catch(() => undefined);

  service(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
    return this.client.postJson(`/api/v1/namespaces/${this.ns}/services`, {
      metadata: { name, ...metadata },
      spec,
    });
  }

  getService = (name: string) =>
    this.client.getJson<{
      metadata: { labels?: Record<string, string>; ownerReferences?: { uid: string }[]; uid: string };
      spec: Record<string, unknown>;
    }>(`/api/v1/namespaces/${this.ns}/services/${name}`);

  patchService = (name: string, patch: unknown) =>
    this.client.patchJson(`/api/v1/namespaces/${this.ns}/services/${name}`, patch);

  deleteService = (name: string) => this.client.deleteJson(`/api/v1/namespaces/${this.ns}/services/${name}`);

  backends(name: string, spec: Record<string, unknown>) {
    return this.client.postJson(SB(this.ns), {
      apiVersion: 'portico.io/v1alpha1',
      kind: 'ServiceBackends',
      metadata: { name },
      spec,
    });
  }

  getBackends = (name: string) =>
    this.client.getJson<{
      metadata: { uid: string; labels?: Record<string, string> };
      spec: Record<string, unknown>;
      status?: SbStatus;
    }>(`${SB(this.ns)}/${name}`);

  patchBackends = (name: string, patch: unknown) => this.client.patchJson(`${SB(this.ns)}/${name}`, patch);
  deleteBackends = (name: string) => this.client.deleteJson(`${SB(this.ns)}/${name}`);

  async exists(path: 'services' | 'servicebackends', name: string): Promise<boolean> {
    const url =
      path === 'services' ? `/api/v1/namespaces/${this.ns}/services/${name}` : `${SB(this.ns)}/${name}`;
    return this.client.getJson(url).then(
      () => true,
      (err: { code?: number }) => {
        if (err.code === 404) return false;
        throw err;
      },
    );
  }

  async slices(serviceName: string): Promise<Slice[]> {
    const list = await this.client.getJson<{ items: Slice[] }>(
      `/apis/discovery.k8s.io/v1/namespaces/${this.ns}/endpointslices`,
      { labelSelector: `kubernetes.io/service-name=${serviceName}` },
    );
    return list.items;
  }

  async portico(serviceName: string): Promise<Slice[]> {
    return (await this.slices(serviceName)).filter(
      (s) => s.metadata.labels?.[MANAGED_BY] === 'servicebackends.portico.io',
    );
  }

  /** address -> ready, over Portico's slices of a Service. */
  async published(serviceName: string): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    for (const s of await this.portico(serviceName)) {
      for (const e of s.endpoints ?? []) out.set(e.addresses[0]!, e.conditions?.ready === true);
    }
    return out;
  }

  async events(involvedName: string): Promise<KubeEvent[]> {
    const list = await this.client.getJson<{ items: KubeEvent[] }>(`/api/v1/namespaces/${this.ns}/events`, {
      fieldSelector: `involvedObject.name=${involvedName}`,
    });
    return list.items;
  }

  async waitCondition(name: string, type: string, status: string, timeoutMs = 60_000): Promise<Cond> {
    let last: Cond | undefined;
    await waitFor(
      `ServiceBackends ${name} ${type}=${status}`,
      async () => {
        last = (await this.getBackends(name)).status?.conditions?.find((c) => c.type === type);
        return last?.status === status;
      },
      timeoutMs,
    );
    return last!;
  }

  async waitPublished(serviceName: string, want: Record<string, boolean>, timeoutMs = 60_000): Promise<void> {
    let last = '';
    const wanted = JSON.stringify(Object.entries(want).sort());
    await waitFor(
      `slices of ${serviceName} = ${wanted}`,
      async () => {
        last = JSON.stringify([...(await this.published(serviceName)).entries()].sort());
        return last === wanted;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${last}`);
    });
  }

  async waitEvent(involvedName: string, reason: string, timeoutMs = 60_000): Promise<KubeEvent> {
    let found: KubeEvent | undefined;
    await waitFor(
      `Event ${reason} on ${involvedName}`,
      async () => {
        found = (await this.events(involvedName)).find((e) => e.reason === reason);
        return found !== undefined;
      },
      timeoutMs,
    );
    return found!;
  }
}
