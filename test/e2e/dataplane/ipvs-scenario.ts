// The IPVS scenario, run inside User-Mode Linux by ipvs.test.ts (this
// kernel has no IPVS). It builds the usual topology in the guest, drives
// IpvsBackend directly with model input (the guest cannot reach the host's
// apiserver), sends real requests, and prints one JSON object of
// observations on stdout; the jest test on the host asserts on them.
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
};

const observations: Record<string, unknown> = {};
const bodies = (rs: readonly ProbeResult[]): string[] =>
  rs.map((r) => (r.ok ? (r.body ?? '') : `error:${r.code}`));
const clients = (rs: readonly ProbeResult[]): string[] => [...new Set(rs.map((r) => r.client ?? ''))];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const lab = new PdpLab('ipvs');
  try {
    await buildTopology(lab, 120_000);
    const prefix = ['ip', 'netns', 'exec', lab.ns('node')];
    await applySysctls(SYSCTLS.ipvs, spawnCommand, prefix);
    const backend = new IpvsBackend({
      executor: new IpvsExecutor({ prefix }),
      // Debian's UML kernel has no nf_tables for ip/ip6/inet: no companion table here.
      companion: false,
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

    observations['clusterIP'] = bodies(await probe(lab, 'node', '192.0.2.10', 80, 30, SLOW));
    observations['clusterIP6'] = bodies(await probe(lab, 'node', '2001:db8:3::10', 80, 30, SLOW));
    observations['affinity'] = bodies(await probe(lab, 'node', '192.0.2.11', 80, 20, SLOW));
    const nodePort = await probe(lab, 'client', NODE_V4, 30080, 30, SLOW);
    observations['nodePort'] = { bodies: bodies(nodePort), clients: clients(nodePort) };
    const nodePortPodSide = await probe(lab, 'node', NODE_POD_SIDE_V4, 30080, 6, SLOW);
    observations['nodePortSecondAddress'] = bodies(nodePortPodSide);
    const local = await probe(lab, 'client', NODE_V4, 30081, 30, SLOW);
    observations['local'] = { bodies: bodies(local), clients: clients(local) };
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
    observations['agent'] = await agentScenario(
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
  } catch (err) {
    observations['error'] = err instanceof Error ? `${err.stack ?? err.message}` : String(err);
  } finally {
    await lab.cleanup();
  }
  process.stdout.write(`${JSON.stringify(observations)}\n`);
}

await main();
