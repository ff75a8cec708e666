// The lab's stand-ins for what kubelets would do: Node objects for the three
// node namespaces, kept alive by renewing their Leases (else the node
// lifecycle controller marks them NotReady after ~40 s), and the hello Pods
// with status written as a kubelet would (Running, podIP, Ready), so that
// kube-controller-manager builds EndpointSlices from them.
import type { RawKubeClient } from '../lib/raw-client.ts';
import { isAlreadyExists } from '../lib/errors.ts';
import { formatMicroTime } from '../lib/lease-decision.ts';
import { APP_NAMESPACE, NODES, POD_PORT } from './plan.ts';
import type { LabNode } from './plan.ts';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function create(client: RawKubeClient, path: string, body: unknown): Promise<void> {
  await client.postJson(path, body).catch((err: unknown) => {
    if (!isAlreadyExists(err)) throw err;
  });
}

export async function createNamespace(client: RawKubeClient, name: string): Promise<void> {
  await create(client, '/api/v1/namespaces', { metadata: { name } });
}

async function createNode(client: RawKubeClient, node: LabNode): Promise<void> {
  await create(client, '/api/v1/nodes', {
    metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name, 'portico.io/lab': 'true' } },
    spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
  });
  const t = now();
  await client.patchJson(`/api/v1/nodes/${node.name}/status`, {
    status: {
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'LabStandIn', lastHeartbeatTime: t, lastTransitionTime: t },
        { type: 'NetworkUnavailable', status: 'False', reason: 'LabStandIn', lastTransitionTime: t },
      ],
    },
  });
}

async function renewLease(client: RawKubeClient, node: LabNode): Promise<void> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node.name}`;
  const spec = {
    holderIdentity: node.name,
    leaseDurationSeconds: 40,
    renewTime: formatMicroTime(Date.now()),
  };
  try {
    await client.patchJson(path, { spec });
  } catch {
    await create(client, '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      metadata: { name: node.name },
      spec,
    });
  }
}

/** Creates the Nodes and renews their Leases every 10 s until the returned stop() is called. */
export async function startNodes(client: RawKubeClient): Promise<() => void> {
  for (const node of NODES) {
    await createNode(client, node);
    await renewLease(client, node);
  }
  const timer = setInterval(() => {
    for (const node of NODES) void renewLease(client, node).catch(() => undefined);
  }, 10_000);
  return () => clearInterval(timer);
}

/** The hello Pods of seed 000, one per node, marked Running and Ready. */
export async function startPods(client: RawKubeClient): Promise<void> {
  await createNamespace(client, APP_NAMESPACE);
  for (const node of NODES) {
    await create(client, `/api/v1/namespaces/${APP_NAMESPACE}/pods`, {
      metadata: { name: node.pod.name, labels: { app: 'hello' } },
      spec: {
        nodeName: node.name,
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'hello',
            image: 'lab.invalid/hello:stand-in',
            ports: [{ name: 'http', containerPort: POD_PORT }],
          },
        ],
      },
    });
    const t = now();
    await client.patchJson(`/api/v1/namespaces/${APP_NAMESPACE}/pods/${node.pod.name}/status`, {
      status: {
        phase: 'Running',
        hostIP: node.ip,
        podIP: node.pod.ip,
        podIPs: [{ ip: node.pod.ip }],
        startTime: t,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
          { type: 'Ready', status: 'True', lastTransitionTime: t },
        ],
      },
    });
  }
}
