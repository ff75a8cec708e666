// Shared steps of the ClusterIP/NodePort pool tests: the operator with its
// webhook on a free port and its own webhook configurations, pool objects in
// the test's Portico namespace, and reads of status, Events and metrics.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotFound } from '../../../lib/errors.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { startOperator, waitReady, type OperatorProcess } from '../../harness/operator-process.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { sharedKubeconfigPath } from '../../harness/shared.ts';

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface PoolObj {
  metadata: { name: string; resourceVersion?: string };
  status?: {
    conditions?: Cond[];
    total?: number;
    used?: number;
    available?: number;
    ipv4?: { assigned: number };
  };
}

export const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
export const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
export const SERVICES = (ns: string) => `/api/v1/namespaces/${ns}/services`;
export const POOLS = (ns: string, plural: string) => `/apis/portico.io/v1alpha1/namespaces/${ns}/${plural}`;

/** Runs the operator for `namespace`, owning webhook configurations named after it. */
export class OperatorRun {
  readonly #client: RawKubeClient;
  readonly namespace: string;
  readonly #args: string[];
  #port = 0;
  #starts = 0;
  process: OperatorProcess | undefined;

  constructor(client: RawKubeClient, namespace: string, args: string[] = []) {
    this.#client = client;
    this.namespace = namespace;
    this.#args = args;
  }

  async start(): Promise<void> {
    this.#port ||= await freePort();
    this.process = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace: this.namespace,
      logFile: join(tmpdir(), `${this.namespace}-operator-${++this.#starts}.log`),
      args: [
        `--webhook-port=${this.#port}`,
        `--webhook-url=https://127.0.0.1:${this.#port}`,
        `--validating-webhook-configuration=${this.namespace}-validating`,
        `--mutating-webhook-configuration=${this.namespace}-mutating`,
        ...this.#args,
      ],
    });
    await waitReady(this.process);
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    this.process = undefined;
  }

  async metrics(): Promise<string> {
    if (!this.process) throw new Error('operator not running');
    return (await fetch(`http://127.0.0.1:${this.process.healthPort}/metrics`)).text();
  }

  /** The value of one sample, e.g. metric('portico_audit_findings{pool="a",field="clusterIP"}'). */
  async metric(sample: string): Promise<number | undefined> {
    const line = (await this.metrics()).split('\n').find((l) => l.startsWith(`${sample} `));
    return line === undefined ? undefined : Number(line.slice(sample.length + 1));
  }

  async cleanup(): Promise<void> {
    await this.stop();
    for (const path of [`${VWC}/${this.namespace}-validating`, `${MWC}/${this.namespace}-mutating`]) {
      await this.#client.deleteJson(path).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }
}

export function createPool(
  client: RawKubeClient,
  namespace: string,
  kind: 'IPAddressPool' | 'NodePortPool',
  name: string,
  spec: Record<string, unknown>,
) {
  const plural = kind === 'IPAddressPool' ? 'ipaddresspools' : 'nodeportpools';
  return client.postJson(POOLS(namespace, plural), {
    apiVersion: 'portico.io/v1alpha1',
    kind,
    metadata: { name },
    spec,
  });
}

export async function waitPoolCondition(
  client: RawKubeClient,
  namespace: string,
  plural: string,
  name: string,
  check: (c: Cond | undefined, pool: PoolObj) => boolean,
  type: string,
  timeoutMs = 60_000,
): Promise<{ condition: Cond | undefined; pool: PoolObj }> {
  let last: { condition: Cond | undefined; pool: PoolObj } | undefined;
  await waitFor(
    `${plural}/${name} condition ${type} as expected`,
    async () => {
      const pool = await client.getJson<PoolObj>(`${POOLS(namespace, plural)}/${name}`);
      last = { condition: pool.status?.conditions?.find((c) => c.type === type), pool };
      return check(last.condition, pool);
    },
    timeoutMs,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last ${type}: ${JSON.stringify(last?.condition)}`);
  });
  return last!;
}

export interface EventObj {
  reason: string;
  type: string;
  message: string;
  count?: number;
  involvedObject: { name: string; kind: string };
}

export async function eventsFor(client: RawKubeClient, namespace: string, name: string, reason: string) {
  const list = await client.getJson<{ items: EventObj[] }>(`/api/v1/namespaces/${namespace}/events`, {
    fieldSelector: `involvedObject.name=${name},reason=${reason}`,
  });
  return list.items;
}
