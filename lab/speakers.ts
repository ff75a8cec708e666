// One real speaker per node namespace: the nftables data path, L2 and BGP,
// against the lab's apiserver through the bridge. Each waits for /readyz.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Lab } from '../test/e2e/netns/netns.ts';
import type { ApiserverBridge } from '../test/harness/apiserver-bridge.ts';
import { NAMESPACE, NODES } from './plan.ts';

const SPEAKER = fileURLToPath(new URL('../speaker/main.ts', import.meta.url));
const HEALTH_PORT = 7473;

export interface SpeakerOptions {
  lab: Lab;
  bridge: ApiserverBridge;
  kubeconfig: string;
  dir: string;
  dataplane?: 'nftables' | 'ipvs';
}

export function speakerArgs(o: SpeakerOptions, node: string): string[] {
  return [
    process.execPath,
    '--disable-warning=ExperimentalWarning',
    SPEAKER,
    `--kubeconfig=${o.kubeconfig}`,
    `--node-name=${node}`,
    `--namespace=${NAMESPACE}`,
    `--health-port=${HEALTH_PORT}`,
    `--dataplane=${o.dataplane ?? 'nftables'}`,
    `--cluster-cidrs=${NODES.map((n) => n.podCIDR).join(',')}`,
    '--l2=on',
    '--l2-interfaces=eth0',
    process.env.PORTICO_LAB_BGP === 'off' ? '--bgp=off' : '--bgp=on',
  ];
}

/** Exits 0 once the speaker on this node answers /readyz. */
export const READY_PROBE = [
  process.execPath,
  '-e',
  `fetch('http://127.0.0.1:${HEALTH_PORT}/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
];

async function ready(lab: Lab, node: string): Promise<boolean> {
  const r = await lab.tryExec(node, READY_PROBE);
  return r.code === 0;
}

export async function startSpeakers(o: SpeakerOptions): Promise<void> {
  for (const node of NODES) {
    await o.bridge.into(o.lab.ns(node.name), join(o.dir, `bridge-${node.name}.log`));
    const log = join(o.dir, `speaker-${node.name}.log`);
    await o.lab.start(
      node.name,
      ['sh', '-c', `exec "$@" >>${log} 2>&1`, 'speaker', ...speakerArgs(o, node.name)],
      null,
    );
  }
  const deadline = Date.now() + 60_000;
  for (const node of NODES) {
    while (!(await ready(o.lab, node.name))) {
      if (Date.now() > deadline)
        throw new Error(`speaker on ${node.name} not ready; see ${o.dir}/speaker-${node.name}.log`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
