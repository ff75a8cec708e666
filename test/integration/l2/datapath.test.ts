// Real traffic: speakers run with the nftables data path, a pod on one node
// serves HTTP, and the client's curl to the LoadBalancer IP reaches it. With
// externalTrafficPolicy Local the announcement is on the pod's node, so the
// packets the client sends there (after ARP) are DNATed to the local pod.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../harness/processes.ts';
import { endpointSlice, localSlice } from './kube.ts';
import { L2Env, POOL_V4, assertLabAvailable } from './setup.ts';

await assertLabAvailable();
const HELLO = fileURLToPath(new URL('../../e2e/netns/hello-server.ts', import.meta.url));

describe('L2 announcement with the nftables data path', () => {
  const t = new L2Env('l2dp');
  /** The HTTP server name of each node's pod. */
  const podNames = new Map<string, string>();

  beforeAll(async () => {
    await t.setup({}, [
      '--dataplane=nftables',
      '--min-sync-interval=100ms',
      // The lab's kube-ipvs0 stands for a node that once ran kube-proxy in IPVS mode.
      '--allow-kube-proxy=true',
    ]);
  });

  afterAll(async () => {
    await t.teardown();
  });

  it('a curl from the client to the VIP reaches the pod on the announcing node', async () => {
    const ip = POOL_V4[3]!;
    // A node the plain election would not pick, so the announcement must follow the endpoint.
    const host = t.lab.nodes.find((n) => n.name !== t.expected(ip).name)!;
    const pod = await t.lab.addPod(host.short);
    await t.lab.startIn(pod.netns, [HELLO, 'pod-a', '8080'], 'pod-a', /listening/);
    podNames.set(host.name, 'pod-a');
    await t.env.service('web', { loadBalancerIP: ip, externalTrafficPolicy: 'Local' });
    await t.env.waitIngress('web', (ips) => ips.includes(ip));
    await localSlice(t.env.client, t.env.ns, 'web', host.name, pod.ip, 8080);
    await t.waitArpOnlyFrom(ip, host.mac0);
    let body = '';
    await waitFor(`curl http://${ip}/ from the client`, async () => {
      const r = await t.lab.tryExec(t.lab.client, ['curl', '-s', '--max-time', '2', `http://${ip}/`]);
      body = r.stdout;
      return r.code === 0;
    });
    expect(body).toBe('Hello from pod-a\n');
  });

  it('after SIGKILL of the announcing speaker, traffic resumes through the new announcer', async () => {
    // One pod per node (the first test made the pod of one of them).
    const pods = new Map<string, string>();
    for (const n of t.lab.nodes) {
      pods.set(n.name, `10.244.${t.lab.nodes.indexOf(n) + 1}.2`);
      if (podNames.has(n.name)) continue;
      const pod = await t.lab.addPod(n.short);
      await t.lab.startIn(pod.netns, [HELLO, `pod-${n.short}`, '8080'], `pod-${n.short}`, /listening/);
      podNames.set(n.name, `pod-${n.short}`);
    }
    const ip = POOL_V4[4]!;
    await t.env.service('multi', { loadBalancerIP: ip, externalTrafficPolicy: 'Local' });
    await t.env.waitIngress('multi', (ips) => ips.includes(ip));
    await endpointSlice(
      t.env.client,
      t.env.ns,
      'multi',
      t.lab.nodes.map((n) => ({ address: pods.get(n.name)!, nodeName: n.name })),
      8080,
    );
    const first = t.expected(ip);
    await t.waitArpOnlyFrom(ip, first.mac0);
    // With policy Local, the announcing node's own pod answers.
    const hello = (node: string) =>
      waitFor(`curl http://${ip}/ answered by the pod on ${node}`, async () => {
        const r = await t.lab.tryExec(t.lab.client, ['curl', '-s', '--max-time', '1', `http://${ip}/`]);
        return r.stdout === `Hello from ${podNames.get(node)}\n`;
      });
    await hello(first.name);
    await t.lab.stopSpeaker(first.short, 'SIGKILL');
    const next = t.expected(
      ip,
      t.lab.nodes.filter((n) => n !== first),
    );
    await waitFor('client neighbour entry moved', async () => (await t.lab.neighbour(ip))?.mac === next.mac0);
    await hello(next.name);
  });
});
