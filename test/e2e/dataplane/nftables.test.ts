// The nftables backend with real packets: a node namespace programmed from
// Services and EndpointSlices built here (no apiserver at this layer), three
// pod namespaces serving "Hello from <pod>", and a client namespace outside.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { buildDesiredState } from '../../../speaker/dataplane/model.ts';
import { NftablesBackend } from '../../../speaker/dataplane/nftables/backend.ts';
import type { SyncResult } from '../../../speaker/dataplane/nftables/backend.ts';
import { NftExecutor } from '../../../speaker/dataplane/nftables/executor.ts';
import { parseInventory } from '../../../speaker/dataplane/nftables/inventory.ts';
import type { DesiredState } from '../../../speaker/dataplane/types.ts';
import { endpoint, service, slice } from '../../unit/dataplane/helpers.ts';
import type { EndpointOptions } from '../../unit/dataplane/helpers.ts';
import { Lab, netnsUnavailable } from '../netns/netns.ts';
import {
  CLIENT_V4,
  NODE_POD_SIDE_V4,
  NODE_V4,
  NODE_V6,
  PODS,
  POD_PORT,
  answeredBy,
  buildTopology,
  holdConnection,
  probe,
} from './topology.ts';

const NODE_NAME = 'node-1';
// These tests need root, ip netns and nft. Without them they fail with the reason
// rather than skip: a quietly skipped data-path test would prove nothing.
const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`nftables e2e tests cannot run here: ${unavailable}`);
const describeNet = describe;

const HTTP_PORT = { name: 'http', port: 80, targetPort: POD_PORT };
const HTTP = [HTTP_PORT];
const ALL = new Set(PODS.map((p) => p.name));

function podSlice(name: string, family: 4 | 6, conditions: EndpointOptions[] = []): V1EndpointSlice {
  return slice(
    name,
    PODS.map((p, i) =>
      endpoint(family === 4 ? p.v4 : p.v6, { ready: true, nodeName: NODE_NAME, ...conditions[i] }),
    ),
    [{ name: 'http', port: POD_PORT }],
    { name: `${name}-v${family}`, addressType: family === 4 ? 'IPv4' : 'IPv6' },
  );
}

const services: Record<string, V1Service> = {
  web: service('web', {
    type: 'NodePort',
    clusterIP: '192.0.2.10',
    clusterIPs: ['192.0.2.10', '2001:db8:3::10'],
    ipFamilies: ['IPv4', 'IPv6'],
    ports: [{ ...HTTP_PORT, nodePort: 30080 }],
  }),
  sticky: service('sticky', { clusterIP: '192.0.2.11', sessionAffinity: 'ClientIP', ports: HTTP }),
  empty: service('empty', {
    type: 'NodePort',
    clusterIP: '192.0.2.12',
    ports: [{ ...HTTP_PORT, nodePort: 30082 }],
  }),
  drain: service('drain', { clusterIP: '192.0.2.13', ports: HTTP }),
  local: service('local', {
    type: 'NodePort',
    clusterIP: '192.0.2.14',
    externalTrafficPolicy: 'Local',
    ports: [{ ...HTTP_PORT, nodePort: 30081 }],
  }),
  headless: service('headless', { clusterIP: 'None', ports: HTTP }),
  ext: service('ext', { type: 'ExternalName', externalName: 'www.example.test', ports: [{ port: 80 }] }),
};

const slices: Record<string, V1EndpointSlice> = {
  web4: podSlice('web', 4),
  web6: podSlice('web', 6),
  sticky: podSlice('sticky', 4),
  drain: podSlice('drain', 4),
  // pod-c runs on another node: externalTrafficPolicy Local must not reach it.
  local: podSlice('local', 4, [{}, {}, { nodeName: 'node-2' }]),
  headless: podSlice('headless', 4),
};

describeNet('nftables data path, real packets', () => {
  const lab = new Lab('nft');
  let backend: NftablesBackend;
  let desired: DesiredState;

  const sync = async (full = false): Promise<SyncResult> => {
    desired = buildDesiredState({
      services: Object.values(services),
      endpointSlices: Object.values(slices),
      node: { name: NODE_NAME, addresses: [NODE_V4, NODE_V6] },
    }).state;
    return backend.sync(desired, { full });
  };
  const nft = (...args: string[]): Promise<string> => lab.exec('node', ['nft', ...args]);
  const listTable = async () =>
    parseInventory(JSON.parse(await nft('-j', 'list', 'table', 'inet', 'portico')), 'portico');
  /** chain -> rule handles, from the kernel. */
  const ruleHandles = async (): Promise<Map<string, number[]>> => {
    const json = JSON.parse(await nft('-a', '-j', 'list', 'table', 'inet', 'portico')) as {
      nftables: { rule?: { chain: string; handle: number } }[];
    };
    const out = new Map<string, number[]>();
    for (const item of json.nftables) {
      if (item.rule) out.set(item.rule.chain, [...(out.get(item.rule.chain) ?? []), item.rule.handle]);
    }
    return out;
  };
  const chainsOf = (key: string): string[] => backend.planFor(key)?.chains.map((c) => c.name) ?? [];

  beforeAll(async () => {
    await buildTopology(lab);
    backend = new NftablesBackend({
      runner: new NftExecutor({ prefix: ['ip', 'netns', 'exec', lab.ns('node')] }),
      clusterCIDRs: ['198.51.100.0/24', '2001:db8:1::/64'],
    });
    const first = await sync();
    expect(first.full).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await lab.cleanup();
  }, 30_000);

  it('programs the whole table in one transaction, and the kernel holds exactly the plan', async () => {
    const live = await listTable();
    const dispatched = [...live.elements.values()].flatMap((m) => [...m.keys()]).sort();
    const wanted = desired.services
      .map((vs) => `${vs.vip} . ${vs.protocol.toLowerCase()} . ${vs.port}`)
      .sort();
    expect(dispatched).toEqual(wanted);
    expect((await sync(true)).script).toBe('');
  });

  it('headless and ExternalName Services produce no rules', async () => {
    expect(desired.services.filter((vs) => /headless|ext/.test(vs.service))).toEqual([]);
    const live = await listTable();
    expect([...live.chains.keys()].filter((c) => /headless|\/ext\//.test(c))).toEqual([]);
  });

  it('ClusterIP: 30 requests from the node reach all three pods (seed: three-pod ClusterIP)', async () => {
    const results = await probe(lab, 'node', '192.0.2.10', 80, 30);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(answeredBy(results)).toEqual(ALL);
    // From outside the cluster CIDR, so masqueraded to the node's pod-side address.
    expect(new Set(results.map((r) => r.client))).toEqual(new Set([`::ffff:${NODE_POD_SIDE_V4}`]));
  }, 30_000);

  it('the IPv6 ClusterIP of the same dual-stack Service balances too', async () => {
    const results = await probe(lab, 'node', '2001:db8:3::10', 80, 30);
    expect(answeredBy(results)).toEqual(ALL);
  }, 30_000);

  it('sessionAffinity ClientIP: one pod answers every time', async () => {
    const results = await probe(lab, 'node', '192.0.2.11', 80, 20);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(answeredBy(results).size).toBe(1);
  }, 30_000);

  it('NodePort 30080 from the client namespace reaches all pods, SNATed (policy Cluster)', async () => {
    const results = await probe(lab, 'client', NODE_V4, 30080, 30);
    expect(answeredBy(results)).toEqual(ALL);
    expect(new Set(results.map((r) => r.client))).toEqual(new Set([`::ffff:${NODE_POD_SIDE_V4}`]));
    const six = await probe(lab, 'client', NODE_V6, 30080, 10);
    expect(six.every((r) => r.ok)).toBe(true);
  }, 30_000);

  it('externalTrafficPolicy Local: only local pods answer, and they see the client address', async () => {
    const results = await probe(lab, 'client', NODE_V4, 30081, 30);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(answeredBy(results)).toEqual(new Set(['pod-a', 'pod-b']));
    expect(new Set(results.map((r) => r.client))).toEqual(new Set([`::ffff:${CLIENT_V4}`]));
  }, 30_000);

  it('a Service with no endpoints rejects: connection refused, not a timeout', async () => {
    const [fromNode] = await probe(lab, 'node', '192.0.2.12', 80, 1, 5000);
    expect(fromNode).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    const [fromClient] = await probe(lab, 'client', NODE_V4, 30082, 1, 5000);
    expect(fromClient).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  }, 30_000);

  it('a pod marked not ready drops out, and a terminating pod drains', async () => {
    const held = await holdConnection(lab, 'node', '192.0.2.13', 80);
    expect(held.first.ok).toBe(true);
    const draining = PODS.findIndex((p) => held.first.body === `Hello from ${p.name}`);
    expect(draining).toBeGreaterThanOrEqual(0);
    const notReady = (draining + 1) % 3;
    const remaining = PODS[(draining + 2) % 3]?.name;
    const conditions: EndpointOptions[] = [{}, {}, {}];
    conditions[draining] = { ready: false, serving: true, terminating: true };
    conditions[notReady] = { ready: false, serving: false };
    slices['drain'] = podSlice('drain', 4, conditions);
    const r = await sync();
    expect(r.servicesChanged).toBe(1);

    const fresh = await probe(lab, 'node', '192.0.2.13', 80, 20);
    expect(answeredBy(fresh)).toEqual(new Set([remaining]));
    // The open connection to the terminating pod keeps working.
    expect(await held.next()).toMatchObject({ ok: true, body: held.first.body });
  }, 30_000);

  it('when no pod is ready, serving terminating pods take the traffic (kube-proxy fallback)', async () => {
    const conditions: EndpointOptions[] = [
      { ready: false, serving: true, terminating: true },
      { ready: false, serving: false, terminating: true },
      { ready: false, serving: false },
    ];
    slices['drain'] = podSlice('drain', 4, conditions);
    await sync();
    const results = await probe(lab, 'node', '192.0.2.13', 80, 10);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(answeredBy(results)).toEqual(new Set(['pod-a']));
  }, 30_000);

  it('a sync rewrites only the changed Service: other chains keep their rule handles', async () => {
    const before = await ruleHandles();
    slices['sticky'] = podSlice('sticky', 4, [{}, {}, { ready: false, serving: false }]);
    const r = await sync();
    expect(r.servicesChanged).toBe(1);
    const after = await ruleHandles();
    const stickyChain = chainsOf('TCP/192.0.2.11/80')[0] ?? '';
    expect(after.get(stickyChain)).not.toEqual(before.get(stickyChain));
    for (const key of ['TCP/192.0.2.10/80', 'TCP/203.0.113.1/30080', 'TCP/192.0.2.13/80']) {
      for (const chain of chainsOf(key)) expect(after.get(chain)).toEqual(before.get(chain));
    }
    for (const base of ['services', 'nat-prerouting', 'masquerading'])
      expect(after.get(base)).toEqual(before.get(base));
    const results = await probe(lab, 'node', '192.0.2.11', 80, 10);
    expect(results.every((x) => x.ok && x.body !== 'Hello from pod-c')).toBe(true);
  }, 30_000);

  it('rules deleted by hand break the Service until the next full sync puts them back', async () => {
    const chain = chainsOf('TCP/192.0.2.10/80')[0] ?? '';
    const handles = (await ruleHandles()).get(chain) ?? [];
    expect(handles.length).toBeGreaterThan(0);
    for (const h of handles) await nft('delete', 'rule', 'inet', 'portico', chain, 'handle', String(h));
    const broken = await probe(lab, 'node', '192.0.2.10', 80, 3, 1000);
    expect(broken.some((r) => r.ok)).toBe(false);

    expect((await sync()).script).toBe(''); // a partial sync trusts its memory
    const repair = await sync(true);
    expect(repair.stats.chainsWritten).toBe(1);
    expect(answeredBy(await probe(lab, 'node', '192.0.2.10', 80, 30))).toEqual(ALL);
  }, 30_000);

  it('a dispatch element deleted by hand is put back by the next full sync', async () => {
    await nft('delete', 'element', 'inet', 'portico', 'service-ips4', `{ ${NODE_V4} . tcp . 30080 }`);
    expect((await probe(lab, 'client', NODE_V4, 30080, 1, 1000))[0]?.ok).toBe(false);
    const repair = await sync(true);
    expect(repair.stats).toMatchObject({ elementsAdded: 1, chainsWritten: 0 });
    expect(answeredBy(await probe(lab, 'client', NODE_V4, 30080, 30))).toEqual(ALL);
  }, 30_000);

  it('a table deleted by hand is rebuilt by the next full sync', async () => {
    await nft('delete', 'table', 'inet', 'portico');
    const repair = await sync(true);
    expect(repair.script.startsWith('add table inet portico')).toBe(true);
    expect(answeredBy(await probe(lab, 'node', '192.0.2.10', 80, 30))).toEqual(ALL);
  }, 30_000);
});
