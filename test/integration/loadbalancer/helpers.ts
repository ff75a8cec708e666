// Shared setup of the LoadBalancer integration tests: a Portico namespace with
// its own operator process, a namespace for the test's Services, and small
// helpers to create pools and Services and wait for what the operator writes.
//
// Every test file uses its own load-balancer class (and --default-load-balancer
// false unless it says otherwise), so operators of other test files and
// Services they leave behind never meet.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION } from '../../../crds/index.ts';
import { isNotFound } from '../../../lib/errors.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { startOperator } from '../../harness/operator-process.ts';
import type { OperatorProcess } from '../../harness/operator-process.ts';
import { waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';

export interface Ingress {
  ip?: string;
  ipMode?: string;
}

export interface Svc {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  spec: Record<string, unknown> & { ipFamilies?: string[] };
  status?: {
    loadBalancer?: { ingress?: Ingress[] };
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  count?: number;
  involvedObject: { name: string; uid?: string };
}

export interface ServiceOptions {
  class?: string | null;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  loadBalancerIP?: string;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: { port: number; protocol?: string }[];
  externalTrafficPolicy?: string;
  selector?: Record<string, string>;
  namespace?: string;
  type?: string;
}

export const POOL_ANNOTATION = 'portico.io/ip-pool';

export class LbEnv {
  readonly kc: KubeConfig = sharedKubeConfig();
  readonly client = RawKubeClient.fromKubeConfig(this.kc);
  /** Portico's namespace: pools, reservations, the Lease. */
  readonly portico: string;
  /** Where the test's Services live. */
  readonly ns: string;
  /** This file's load-balancer class. */
  readonly cls: string;
  readonly extraNamespaces: string[] = [];
  operators: OperatorProcess[] = [];
  #logs = 0;

  constructor(prefix: string) {
    this.portico = uniqueName(`${prefix}-portico`);
    this.ns = uniqueName(prefix);
    this.cls = `test.portico.io/${this.ns}`;
  }

  /** Installs the CRDs, creates the namespaces and starts one operator. */
  async setup(args: string[] = []): Promise<void> {
    await installCrds(this.kc);
    await this.namespace(this.portico);
    await this.namespace(this.ns);
    await this.startOperator(args);
  }

  defaultArgs(): string[] {
    return [
      '--webhook-port=0',
      `--load-balancer-class=${this.cls}`,
      '--default-load-balancer=false',
      '--lease-duration=4s',
      '--renew-deadline=3s',
      '--retry-period=500ms',
    ];
  }

  async startOperator(args: string[] = [], identity?: string): Promise<OperatorProcess> {
    const op = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace: this.portico,
      logFile: join(tmpdir(), `${this.portico}-operator-${this.#logs++}.log`),
      args: [...this.defaultArgs(), ...(identity ? [`--identity=${identity}`] : []), ...args],
    });
    this.operators.push(op);
    await waitLive(op);
    return op;
  }

  /** Waits until one operator leads and has rebuilt its LoadBalancer state. */
  async waitLeading(): Promise<OperatorProcess> {
    let leader: OperatorProcess | undefined;
    await waitFor('an operator leading with LoadBalancer state restored', async () => {
      for (const op of this.operators) if (await isServing(op)) leader = op;
      return leader !== undefined;
    });
    return leader!;
  }

  async stopOperators(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.operators.map((op) => op.stop(signal)));
    this.operators = [];
  }

  async teardown(): Promise<void> {
    await this.stopOperators();
    for (const ns of [this.ns, this.portico, ...this.extraNamespaces]) {
      await this.client.deleteJson(`/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
  }

  async namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await this.client.postJson('/api/v1/namespaces', { metadata: { name, labels } });
    if (name !== this.ns && name !== this.portico) this.extraNamespaces.push(name);
  }

  async pool(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.client.postJson(`/apis/portico.io/v1alpha1/namespaces/${this.portico}/ipaddresspools`, {
      apiVersion: API_VERSION,
      kind: 'IPAddressPool',
      metadata: { name },
      spec,
    });
  }

  async deletePool(name: string): Promise<void> {
    await this.client.deleteJson(
      `/apis/portico.io/v1alpha1/namespaces/${this.portico}/ipaddresspools/${name}`,
    );
  }

  async poolStatus(name: string): Promise<{
    ipv4?: { total: number; assigned: number; reserved?: number; available: number };
    ipv6?: { total: number; assigned: number; reserved?: number; available: number };
    conditions?: { type: string; status: string }[];
  }> {
    const p = await this.client.getJson<{ status?: Record<string, never> }>(
      `/apis/portico.io/v1alpha1/namespaces/${this.portico}/ipaddresspools/${name}`,
    );
    return p.status ?? {};
  }

  async waitPoolReady(name: string): Promise<void> {
    await waitFor(`IPAddressPool ${name} Ready`, async () =>
      ((await this.poolStatus(name)).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  }

  serviceBody(name: string, o: ServiceOptions = {}): Record<string, unknown> {
    const cls = o.class === undefined ? this.cls : o.class;
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name,
        ...(o.annotations ? { annotations: o.annotations } : {}),
        ...(o.labels ? { labels: o.labels } : {}),
      },
      spec: {
        type: o.type ?? 'LoadBalancer',
        ...(cls !== null && (o.type ?? 'LoadBalancer') === 'LoadBalancer' ? { loadBalancerClass: cls } : {}),
        ...((o.type ?? 'LoadBalancer') === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: false } : {}),
        ...(o.loadBalancerIP ? { loadBalancerIP: o.loadBalancerIP } : {}),
        ...(o.ipFamilies ? { ipFamilies: o.ipFamilies } : {}),
        ...(o.ipFamilyPolicy ? { ipFamilyPolicy: o.ipFamilyPolicy } : {}),
        ...(o.externalTrafficPolicy ? { externalTrafficPolicy: o.externalTrafficPolicy } : {}),
        selector: o.selector ?? { app: name },
        ports: (o.ports ?? [{ port: 80 }]).map((p, i) => ({
          name: `p${i}`,
          port: p.port,
          protocol: p.protocol ?? 'TCP',
        })),
      },
    };
  }

  async service(name: string, o: ServiceOptions = {}): Promise<Svc> {
    const ns = o.namespace ?? this.ns;
    return this.client.postJson<Svc>(`/api/v1/namespaces/${ns}/services`, this.serviceBody(name, o));
  }

  async getService(name: string, ns = this.ns): Promise<Svc | undefined> {
    try {
      return await this.client.getJson<Svc>(`/api/v1/namespaces/${ns}/services/${name}`);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async patchService(name: string, patch: unknown, ns = this.ns): Promise<Svc> {
    return this.client.patchJson<Svc>(`/api/v1/namespaces/${ns}/services/${name}`, patch);
  }

  async deleteService(name: string, ns = this.ns): Promise<void> {
    await this.client.deleteJson(`/api/v1/namespaces/${ns}/services/${name}`);
    await waitFor(`Service ${ns}/${name} gone`, async () => (await this.getService(name, ns)) === undefined);
  }

  /** Waits until the Service shows addresses (and `check` agrees); returns them. */
  async waitIngress(name: string, check: (ips: string[]) => boolean = (ips) => ips.length > 0, ns = this.ns) {
    let ips: string[] = [];
    await waitFor(`ingress of ${ns}/${name}`, async () => {
      const s = await this.getService(name, ns);
      ips = ingressIPs(s);
      return check(ips);
    });
    return ips;
  }

  async events(name: string, ns = this.ns): Promise<KubeEvent[]> {
    const list = await this.client.getJson<{ items: KubeEvent[] }>(`/api/v1/namespaces/${ns}/events`, {
      fieldSelector: `involvedObject.name=${name}`,
    });
    return list.items;
  }

  /** Waits for an Event with this reason (and message pattern) on a Service; returns it. */
  async waitEvent(name: string, reason: string, message?: RegExp, ns = this.ns): Promise<KubeEvent> {
    let found: KubeEvent | undefined;
    await waitFor(`event ${reason} on ${ns}/${name}`, async () => {
      found = (await this.events(name, ns)).find(
        (e) => e.reason === reason && (message === undefined || message.test(e.message)),
      );
      return found !== undefined;
    });
    return found!;
  }

  async reservation(name: string, ns = this.ns): Promise<{ spec: Record<string, unknown> } | undefined> {
    try {
      return await this.client.getJson(
        `/apis/portico.io/v1alpha1/namespaces/${this.portico}/ipreservations/${ns}.${name}`,
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

async function metrics(op: OperatorProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${op.healthPort}/metrics`)).text();
}

/**
 * Up and answering /healthz. (Readiness also waits for other controllers'
 * informers; these tests only need the LoadBalancer controller.)
 */
export async function waitLive(op: OperatorProcess): Promise<void> {
  await waitFor(`operator pid ${op.pid} live (log: ${op.logFile})`, async () => {
    if (op.child.exitCode !== null)
      throw new Error(`operator exited with ${op.child.exitCode}; see ${op.logFile}`);
    return (await fetch(`http://127.0.0.1:${op.healthPort}/healthz`)).ok;
  });
}

/** The operator leads and its LoadBalancer controller has restored state and runs its queue. */
export async function isServing(op: OperatorProcess): Promise<boolean> {
  if (op.child.exitCode !== null || op.child.signalCode !== null) return false;
  const text = await metrics(op).catch(() => '');
  return /^portico_operator_leader 1$/m.test(text) && /^portico_lb_controller_active 1$/m.test(text);
}

export function ingressIPs(s: Svc | undefined): string[] {
  return (s?.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
}

/** Gives the operator time to act on something it should ignore. */
export const settle = (ms = 2_000) => new Promise<void>((r) => setTimeout(r, ms));
