// The IPVS scenario, run inside User-Mode Linux by ipvs.test.ts (this
// kernel has no IPVS). It builds the usual topology in the guest, drives
// IpvsBackend directly with model input (the guest cannot reach the host's
// apiserver), sends real requests, and prints one JSON object of
// observations on stdout; the jest test on the host asserts on them.
//
// The guest's nf_tables has no inet family, so the companion rules fall back
// to iptables-legacy. To show that they work, the usual topology gets a
// second node whose pod's replies do not come back through this node:
//
//   node n2 198.18.0.1 ── 198.18.0.2 node2 198.18.1.1 ── pod-x 198.18.1.10
//                                    node2 198.18.2.1 ── 198.18.2.2 client
//
// node2 routes the client's network over its own link to the client (as a
// LAN router would), so without masquerade pod-x answers the client
// directly and the connection never completes.
// Usage (inside the guest): node ipvs-scenario.ts
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { IpvsBackend } from '../../../speaker/dataplane/ipvs/backend.ts';
import { IpvsExecutor } from '../../../speaker/dataplane/ipvs/executor.ts';
import { buildDesiredState } from '../../../speaker/dataplane/model.ts';
import { spawnCommand } from '../../../speaker/dataplane/nftables/executor.ts';
import { SYSCTLS, applySysctls } from '../../../speaker/dataplane/sysctl.ts';
import { endpoint, service, slice } from '../../unit/dataplane/helpers.ts';
import type { EndpointOptions } from '../../unit/dataplane/helpers.ts';
import type { ProbeResult } from '../netns/http-probe.ts';
import { helperScript } from '../netns/netns.ts';
import type { Lab } from '../netns/netns.ts';
import type { EndpointSlice, Service } from '../../../speaker/context.ts';
import { agentScenario } from './ipvs-agent-scenario.ts';
import { PdpLab } from './pdp-lab.ts';
import {
  NODE_POD_SIDE_V4,
  NODE_V4,
  PODS,
  POD_PORT,
  buildTopology,
  holdConnection,
  probe,
} from './topology.ts';

export const NODE_NAME = 'node-1';
export const GRACE_MS = 3000;
/** The pod on the other node, and this node's address towards that node. */
export const REMOTE_POD = { name: 'pod-x', v4: '198.18.1.10' } as const;
export const NODE_TO_NODE2_V4 = '198.18.0.1';
/** A port no Service uses, where a process of the node itself (not a pod) listens on every address. */
export const HOST_PORT = 2222;
/** Pod CIDRs: ClusterIP traffic from elsewhere (the client) is masqueraded. */
const CLUSTER_CIDRS = ['198.51.100.0/24', '198.18.1.0/24'];
/** Timeouts for a single-CPU guest on a busy host. */
const SLOW = 20_000;
const HTTP_PORT = { name: 'http', port: 80, targetPort: POD_PORT };

function podSlice(
  name: string,
  conditions: (EndpointOptions | null)[] = [],
  family: 4 | 6 = 4,
): V1EndpointSlice {
  const eps = PODS.flatMap((p, i) =>
    conditions[i] === null
      ? []
      : [endpoint(family === 4 ? p.v4 : p.v6, { ready: true, nodeName: NODE_NAME, ...conditions[i] })],
  );
  return slice(name, eps, [{ name: 'http', port: POD_PORT }], {
    name: `${name}-v${family}`,
    addressType: family === 4 ? 'IPv4' : 'IPv6',
  });
}

const services: Record<string, V1Service> = {
  web: service('web', {
    type: 'NodePort',
    clusterIP: '192.0.2.10',
    clusterIPs: ['192.0.2.10', '2001:db8:3::10'],
    ipFamilies: ['IPv4', 'IPv6'],
    ipFamilyPolicy: 'RequireDualStack',
    ports: [{ ...HTTP_PORT, nodePort: 30080 }],
  }),
  sticky: service('sticky', { clusterIP: '192.0.2.11', sessionAffinity: 'ClientIP', ports: [HTTP_PORT] }),
  empty: service('empty', {
    type: 'NodePort',
    clusterIP: '192.0.2.12',
    ports: [{ ...HTTP_PORT, nodePort: 30082 }],
  }),
  drain: service('drain', { clusterIP: '192.0.2.13', ports: [HTTP_PORT] }),
  remote: service('remote', {
    type: 'NodePort',
    clusterIP: '192.0.2.15',
    ports: [{ ...HTTP_PORT, nodePort: 30083 }],
  }),
  local: service(
    'local',
    {
      type: 'NodePort',
      clusterIP: '192.0.2.14',
      externalTrafficPolicy: 'Local',
      ports: [{ ...HTTP_PORT, nodePort: 30081 }],
    },
    { annotations: { 'portico.io/ipvs-scheduler': 'lc' } },
  ),
};
const slices: Record<string, V1EndpointSlice> = {
  web: podSlice('web'),
  web6: podSlice('web', [], 6),
  sticky: podSlice('sticky'),
  drain: podSlice('drain'),
  // pod-c runs on another node: externalTrafficPolicy Local must not reach it.
  local: podSlice('local', [{}, {}, { nodeName: 'node-2' }]),
  remote: slice(
    'remote',
    [endpoint(REMOTE_POD.v4, { ready: true, nodeName: 'node-2' })],
    [{ name: 'http', port: POD_PORT }],
  ),
};

/** The second node and its pod (see the top of this file). */
async function buildRemoteNode(lab: Lab, startTimeoutMs: number): Promise<void> {
  await lab.addNamespace('node2');
  await lab.addNamespace(REMOTE_POD.name);
  await lab.sysctl('node2', 'net.ipv4.ip_forward', '1');
  // node2 forwards what arrives from this node though its route back is elsewhere.
  for (const d of ['all', 'default']) await lab.sysctl('node2', `net.ipv4.conf.${d}.rp_filter`, '0');
  await lab.link('node', 'n2', 'node2', 'eth0');
  await lab.addr('node', 'n2', `${NODE_TO_NODE2_V4}/24`);
  await lab.addr('node2', 'eth0', '198.18.0.2/24');
  await lab.exec('node', ['ip', 'route', 'add', '198.18.1.0/24', 'via', '198.18.0.2']);
  await lab.link('node2', 'vx', REMOTE_POD.name, 'eth0');
  await lab.addr('node2', 'vx', '198.18.1.1/24');
  await lab.addr(REMOTE_POD.name, 'eth0', `${REMOTE_POD.v4}/24`);
  await lab.exec(REMOTE_POD.name, ['ip', 'route', 'add', 'default', 'via', '198.18.1.1']);
  // node2's way to the client's network bypasses this node.
  await lab.link('node2', 'lan', 'client', 'eth1');
  await lab.addr('node2', 'lan', '198.18.2.1/24');
  await lab.addr('client', 'eth1', '198.18.2.2/24');
  await lab.exec('node2', ['ip', 'route', 'add', '203.0.113.0/24', 'via', '198.18.2.2']);
  // The client reaches ClusterIPs through the node (a router with a route to the Service range).
  await lab.exec('client', ['ip', 'route', 'add', '192.0.2.0/24', 'via', NODE_V4]);
  await lab.start(
    REMOTE_POD.name,
    [
      process.execPath,
      '--disable-warning=ExperimentalWarning',
      helperScript('hello-server.ts'),
      REMOTE_POD.name,
      String(POD_PORT),
    ],
    /listening/,
    startTimeoutMs,
  );
}

const observations: Record<string, unknown> = {};
const bodies = (rs: readonly ProbeResult[]): string[] =>
  rs.map((r) => (r.ok ? (r.body ?? '') : `error:${r.code}`));
const clients = (rs: readonly ProbeResult[]): string[] => [...new Set(rs.map((r) => r.client ?? ''))];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const lab = new PdpLab('ipvs');
  try {
    await buildTopology(lab, 120_000);
    await buildRemoteNode(lab, 120_000);
    const prefix = ['ip', 'netns', 'exec', lab.ns('node')];
    await applySysctls(SYSCTLS.ipvs, spawnCommand, prefix);
    const backend = new IpvsBackend({
      executor: new IpvsExecutor({ prefix }),
      // Debian's UML kernel has no nf_tables inet family: the probe falls back to iptables-legacy.
      companion: { clusterCIDRs: CLUSTER_CIDRS },
      gracePeriodMs: GRACE_MS,
    });
    const sync = (full = false) =>
      backend.sync(
        buildDesiredState({
          services: Object.values(services),
          endpointSlices: Object.values(slices),
          node: { name: NODE_NAME, addresses: [NODE_V4, NODE_POD_SIDE_V4] },
        }).state,
        { full },
      );
    const ipvsadm = (...args: string[]) => lab.exec('node', ['ipvsadm', ...args]);

    observations['firstSync'] = await sync();
    observations['listing'] = await ipvsadm('-Ln');
    observations['dummy'] = await lab.exec('node', ['ip', '-j', 'addr', 'show', 'dev', backend.device]);
    observations['sysctls'] = await lab.exec('node', [
      'sh',
      '-c',
      'cat /proc/sys/net/ipv4/vs/conntrack /proc/sys/net/ipv4/vs/expire_nodest_conn /proc/sys/net/ipv4/vs/expire_quiescent_template /proc/sys/net/ipv4/conf/all/arp_ignore /proc/sys/net/ipv4/conf/all/arp_announce',
    ]);
    observations['resync'] = await sync(true);
    const save = (tool: string, table: string) => lab.exec('node', [tool, '-t', table]);
    observations['iptables'] = {
      nat: await save('iptables-legacy-save', 'nat'),
      filter: await save('iptables-legacy-save', 'filter'),
      nat6: await save('ip6tables-legacy-save', 'nat'),
      nftTables: (await lab.tryExec('node', ['nft', 'list', 'tables'])).stdout,
      filter6: await save('ip6tables-legacy-save', 'filter'),
    };
    // A node process listening on every address (as sshd or the kubelet): the
    // VIPs on the dummy device are local addresses, so only the VIP port
    // filter keeps it off them.
    await lab.start(
      'node',
      [
        process.execPath,
        '--disable-warning=ExperimentalWarning',
        helperScript('hello-server.ts'),
        'node-host',
        String(HOST_PORT),
      ],
      /listening/,
      120_000,
    );

    observations['clusterIP'] = bodies(await probe(lab, 'node', '192.0.2.10', 80, 30, SLOW));
    observations['clusterIP6'] = bodies(await probe(lab, 'node', '2001:db8:3::10', 80, 30, SLOW));
    observations['affinity'] = bodies(await probe(lab, 'node', '192.0.2.11', 80, 20, SLOW));
    const nodePort = await probe(lab, 'client', NODE_V4, 30080, 30, SLOW);
    observations['nodePort'] = { bodies: bodies(nodePort), clients: clients(nodePort) };
    const nodePortPodSide = await probe(lab, 'node', NODE_POD_SIDE_V4, 30080, 6, SLOW);
    observations['nodePortSecondAddress'] = bodies(nodePortPodSide);
    const local = await probe(lab, 'client', NODE_V4, 30081, 30, SLOW);
    observations['local'] = { bodies: bodies(local), clients: clients(local) };
    // The pod on the other node, from the client: only masquerade brings its replies back here.
    const remoteNodePort = await probe(lab, 'client', NODE_V4, 30083, 6, SLOW);
    const remoteClusterIP = await probe(lab, 'client', '192.0.2.15', 80, 6, SLOW);
    await backend.removeCompanion();
    const withoutCompanion = await probe(lab, 'client', NODE_V4, 30083, 2, 4000);
    const leakWithoutCompanion = bodies(await probe(lab, 'client', '192.0.2.10', HOST_PORT, 1, 5000));
    const restoredSync = await sync(true);
    const restored = await probe(lab, 'client', NODE_V4, 30083, 3, SLOW);
    observations['remote'] = {
      nodePort: { bodies: bodies(remoteNodePort), clients: clients(remoteNodePort) },
      clusterIP: { bodies: bodies(remoteClusterIP), clients: clients(remoteClusterIP) },
      withoutCompanion: bodies(withoutCompanion),
      restoredSync,
      restored: bodies(restored),
      natAfterRestore: await save('iptables-legacy-save', 'nat'),
    };
    observations['vipFilter'] = {
      leakWithoutCompanion,
      fromClient: bodies(await probe(lab, 'client', '192.0.2.10', HOST_PORT, 1, 5000)),
      fromPod: bodies(await probe(lab, PODS[0].name, '192.0.2.10', HOST_PORT, 1, 5000)),
      fromNode: bodies(await probe(lab, 'node', '192.0.2.10', HOST_PORT, 1, 5000)),
      fromPod6: bodies(await probe(lab, PODS[0].name, '2001:db8:3::10', HOST_PORT, 1, 5000)),
      // Served ports still work, and the node's own address is untouched.
      servedFromClient: bodies(await probe(lab, 'client', '192.0.2.10', 80, 3, SLOW)),
      servedFromNode: bodies(await probe(lab, 'node', '192.0.2.10', 80, 3, SLOW)),
      nodeAddress: bodies(await probe(lab, 'client', NODE_V4, HOST_PORT, 1, SLOW)),
    };
    observations['empty'] = {
      fromNode: bodies(await probe(lab, 'node', '192.0.2.12', 80, 1, 5000)),
      fromClient: bodies(await probe(lab, 'client', NODE_V4, 30082, 1, 5000)),
    };

    // Drain: the pod holding an open connection terminates, another is not ready.
    const held = await holdConnection(lab, 'node', '192.0.2.13', 80, SLOW);
    const draining = PODS.findIndex((p) => held.first.body === `Hello from ${p.name}`);
    const notReady = (draining + 1) % 3;
    const conditions: (EndpointOptions | null)[] = [{}, {}, {}];
    conditions[draining] = { ready: false, serving: true, terminating: true };
    conditions[notReady] = { ready: false, serving: false };
    slices['drain'] = podSlice('drain', conditions);
    observations['drainSync'] = await sync();
    observations['drain'] = {
      held: held.first.body,
      remaining: PODS[(draining + 2) % 3]?.name,
      listing: await ipvsadm('-Ln', '-t', '192.0.2.13:80'),
      fresh: bodies(await probe(lab, 'node', '192.0.2.13', 80, 20, SLOW)),
      heldAgain: (await held.next()).body ?? 'error',
    };
    // The terminating pod goes away: its real server stays at weight 0 while
    // its connection is open, and is deleted once the grace period is over.
    conditions[draining] = null;
    slices['drain'] = podSlice('drain', conditions);
    const gone = await sync();
    const listingGone = await ipvsadm('-Ln', '-t', '192.0.2.13:80');
    await sleep(GRACE_MS + 500);
    const later = await sync();
    observations['removal'] = {
      draining: gone.draining,
      listing: listingGone,
      laterDraining: later.draining,
      laterListing: await ipvsadm('-Ln', '-t', '192.0.2.13:80'),
    };

    // Drift: a virtual server and a VIP deleted by hand.
    await ipvsadm('-D', '-t', '192.0.2.10:80');
    await lab.exec('node', ['ip', 'addr', 'del', '192.0.2.10/32', 'dev', backend.device]);
    const broken = bodies(await probe(lab, 'node', '192.0.2.10', 80, 2, 1000));
    const partial = await sync();
    const repair = await sync(true);
    observations['repair'] = {
      broken,
      partialRestore: partial.restore,
      repairRestore: repair.restore,
      repairAddresses: repair.addressLines,
      after: bodies(await probe(lab, 'node', '192.0.2.10', 80, 30, SLOW)),
    };
    observations['finalSave'] = await ipvsadm('-Sn');

    // The agent, from a clean node: the same pods, through startDataplane.
    await ipvsadm('-C');
    await lab.exec('node', ['ip', 'link', 'del', backend.device]);
    const agent = await agentScenario(
      lab,
      {
        services: [services['web'] as Service],
        slices: [podSlice('web') as EndpointSlice],
        node: {
          metadata: { name: NODE_NAME },
          status: { addresses: [{ type: 'InternalIP', address: NODE_V4 }] },
        },
        webWithoutC: podSlice('web', [{}, {}, { ready: false, serving: false }]) as EndpointSlice,
        vip: '192.0.2.10',
      },
      SLOW,
    );
    observations['agent'] = {
      ...agent,
      // The agent's first full sync found the backend's chains and jumps: still one jump each.
      nat: await save('iptables-legacy-save', 'nat'),
      filter: await save('iptables-legacy-save', 'filter'),
    };
  } catch (err) {
    observations['error'] = err instanceof Error ? `${err.stack ?? err.message}` : String(err);
  } finally {
    await lab.cleanup();
  }
  process.stdout.write(`${JSON.stringify(observations)}\n`);
}

await main();
