// Objects for the agent's integration test: a Node and Pods whose status the
// test writes (there is no kubelet), so kube-controller-manager writes real
// EndpointSlices for the Services.
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { Socket, createServer } from 'node:net';
import type { Server } from 'node:net';

/** Controllers write Nodes and Pods too: read-modify-write again on 409 Conflict. */
async function retryOnConflict(fn: () => Promise<void>, attempts = 10): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 409 || i >= attempts) throw err;
    }
  }
}

export class Cluster {
  readonly api: CoreV1Api;
  readonly ns: string;

  constructor(kc: KubeConfig, ns: string) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.ns = ns;
  }

  async createNode(name: string, address: string): Promise<void> {
    await this.api.createNode({ body: { metadata: { name } } });
    await retryOnConflict(async () => {
      const node = await this.api.readNode({ name });
      const now = new Date();
      node.status = {
        addresses: [{ type: 'InternalIP', address }],
        // Ready, so the node lifecycle controller leaves its pods alone during the test.
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Test', lastHeartbeatTime: now, lastTransitionTime: now },
        ],
      };
      await this.api.replaceNodeStatus({ name, body: node });
    });
  }

  async deleteNode(name: string): Promise<void> {
    await this.api.deleteNode({ name }).catch(() => undefined);
  }

  async createPod(name: string, nodeName: string, app: string): Promise<void> {
    await this.api.createNamespacedPod({
      namespace: this.ns,
      body: {
        metadata: { name, labels: { app } },
        spec: { nodeName, containers: [{ name: 'hello', image: 'hello' }] },
      },
    });
  }

  /** Writes what a kubelet would: running, with this IP, ready or not. */
  async setPodStatus(name: string, ip: string, ready: boolean): Promise<void> {
    await retryOnConflict(async () => {
      const pod: V1Pod = await this.api.readNamespacedPod({ name, namespace: this.ns });
      pod.status = {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date() }],
      };
      await this.api.replaceNamespacedPodStatus({ name, namespace: this.ns, body: pod });
    });
  }
}

/** A TCP forwarder in front of the apiserver that a test can cut, to play an unreachable API. */
export class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  port = 0;

  constructor(targetHost: string, targetPort: number) {
    this.#server = createServer((client) => {
      if (this.#cut) return void client.destroy();
      const upstream = new Socket();
      upstream.connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  /** Drops every open connection and refuses new ones until heal(). */
  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }

  heal(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
