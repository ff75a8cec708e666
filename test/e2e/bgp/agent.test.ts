// startBgp end to end: a real apiserver (no controller manager; the test
// writes the EndpointSlices a controller would), Portico's CRDs, and a gobgpd
// on loopback as the router. BGPPeer, BGPAdvertisement, Community,
// IPAddressPool and a Secret for the TCP-MD5 password are read from Portico's
// namespace; gobgpd's RIB shows the Service's route with its attributes, an
// externalTrafficPolicy Local change moves it, and deleting the Service
// withdraws it. BGPSessionStatus and ServiceBGPStatus show the session and
// where the Service goes, and follow those changes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bgpAdvertisementKind } from '../../../crds/bgpadvertisement.ts';
import { bgpPeerKind } from '../../../crds/bgppeer.ts';
import { bgpSessionStatusKind } from '../../../crds/bgpsessionstatus.ts';
import { communityKind } from '../../../crds/community.ts';
import { ipAddressPoolKind } from '../../../crds/ipaddresspool.ts';
import { serviceBGPStatusKind } from '../../../crds/servicebgpstatus.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createRegistry } from '../../../lib/metrics.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { collectionPath } from '../../../lib/resource-path.ts';
import { startBgp } from '../../../speaker/bgp/agent.ts';
import { createSpeakerInformers } from '../../../speaker/context.ts';
import type { SpeakerPart } from '../../../speaker/context.ts';
import { ControlPlane } from '../../harness/control-plane.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { attr, GoBgpDaemon, haveBinaries } from './gobgp-daemon.ts';

if (!haveBinaries('gobgpd', 'gobgp'))
  throw new Error('BGP e2e tests need gobgpd, gobgp (apt-get install them)');

const NS = 'portico-system';
const APP_NS = 'default';
const logger = createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent' });

describe('the BGP part of the speaker (startBgp) against gobgpd', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let raw: RawKubeClient;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;
  let dir: string;
  let gobgpd: GoBgpDaemon;
  let part: SpeakerPart | undefined;
  const abort = new AbortController();

  const create = (
    kind: { group: string; version: string; plural: string; kind: string },
    name: string,
    spec: unknown,
  ) =>
    raw.postJson(collectionPath(kind, NS), {
      apiVersion: `${kind.group}/${kind.version}`,
      kind: kind.kind,
      metadata: { name },
      spec,
    });

  const node = async (name: string, address: string) => {
    await core.createNode({ body: { metadata: { name, labels: { rack: 'r1' } } } });
    const n = await core.readNode({ name });
    n.status = {
      addresses: [{ type: 'InternalIP', address }],
      conditions: [
        { type: 'Ready', status: 'True', lastHeartbeatTime: new Date(), lastTransitionTime: new Date() },
      ],
    };
    await core.replaceNodeStatus({ name, body: n });
  };

  /** What the EndpointSlice controller would write: one ready endpoint on `nodeName`. */
  const endpointOn = async (nodeName: string) => {
    const body = {
      addressType: 'IPv4',
      metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [{ addresses: ['10.244.1.5'], nodeName, conditions: { ready: true } }],
      ports: [{ port: 8080, protocol: 'TCP', name: '' }],
    };
    await discovery
      .deleteNamespacedEndpointSlice({ namespace: APP_NS, name: 'web-1' })
      .catch(() => undefined);
    await discovery.createNamespacedEndpointSlice({ namespace: APP_NS, body });
  };

  const rib = () => gobgpd.rib('ipv4', '127.0.0.1');

  type Status = {
    metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
    status?: Record<string, unknown>;
  };
  /** What `kubectl get <kind> -l <selector>` shows. */
  const statuses = async (kind: { group: string; version: string; plural: string }, labelSelector: string) =>
    (await raw.getJson<{ items: Status[] }>(collectionPath(kind, NS), { labelSelector })).items;
  const webStatus = async () =>
    (await statuses(serviceBGPStatusKind, 'portico.io/node=n1,portico.io/service-name=web'))[0];

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllerManager: false });
    kc = cp.kubeConfig();
    raw = RawKubeClient.fromKubeConfig(kc);
    core = kc.makeApiClient(CoreV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    await installCrds(kc);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await node('n1', '10.0.0.11');
    await node('n2', '10.0.0.12');

    dir = mkdtempSync(join(tmpdir(), 'portico-bgp-agent-'));
    const [bgpPort, apiPort] = [await freePort(), await freePort()];
    gobgpd = new GoBgpDaemon(dir, {
      asn: 65001,
      routerId: '10.255.0.1',
      port: bgpPort,
      apiPort,
      listenAddresses: ['127.0.0.1'],
      neighbors: [
        {
          address: '127.0.0.1',
          peerAs: 65005,
          families: ['ipv4-unicast'],
          passive: true,
          password: 'from-a-secret',
        },
      ],
    });
    await gobgpd.start();

    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'tor-password' },
        type: 'kubernetes.io/basic-auth',
        stringData: { password: 'from-a-secret' },
      },
    });
    await create(bgpPeerKind, 'tor', {
      myASN: 65005,
      peerASN: 65001,
      peerAddress: '127.0.0.1',
      peerPort: bgpPort,
      connectTime: '1s',
      passwordSecret: { name: 'tor-password' },
      nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
    });
    await create(ipAddressPoolKind, 'pool', { addresses: ['192.0.2.0/24'] });
    await create(communityKind, 'aliases', { communities: [{ name: 'edge', value: '65005:20' }] });
    await create(bgpAdvertisementKind, 'ad', {
      ipAddressPools: ['pool'],
      communities: ['65005:10', 'edge', 'large:65005:1:2'],
    });
    await core.createNamespacedService({
      namespace: APP_NS,
      body: {
        metadata: { name: 'web' },
        spec: {
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Cluster',
          ports: [{ port: 80, targetPort: 8080 }],
        },
      },
    });
    const svc = await core.readNamespacedService({ namespace: APP_NS, name: 'web' });
    svc.status = { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } };
    await core.replaceNamespacedServiceStatus({ namespace: APP_NS, name: 'web', body: svc });
    await endpointOn('n2');

    // Left by an earlier run of this node's speaker, for a peer it no longer has.
    await raw.postJson(collectionPath(bgpSessionStatusKind, NS), {
      apiVersion: `${bgpSessionStatusKind.group}/${bgpSessionStatusKind.version}`,
      kind: bgpSessionStatusKind.kind,
      metadata: { name: 'gone.n1', labels: { 'portico.io/node': 'n1', 'portico.io/peer': 'gone' } },
      spec: {},
    });

    const registry = createRegistry({ defaultMetrics: false });
    part = await startBgp(
      {
        kc,
        nodeName: 'n1',
        namespace: NS,
        registry,
        informers: createSpeakerInformers(kc, registry),
        signal: abort.signal,
      },
      {
        listenAddress: '127.0.0.7',
        listenPort: await freePort(),
        debounceMs: 50,
        statusDebounceMs: 50,
        logger,
      },
    );
  }, 180_000);

  afterAll(async () => {
    abort.abort();
    await part?.stop();
    await gobgpd?.stop();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('Cluster: the node announces the Service over an MD5 session, with the advertisement communities', async () => {
    await waitFor('route in gobgpd', async () => (await rib()).has('192.0.2.10/32'), 60_000);
    const path = (await rib()).get('192.0.2.10/32');
    // No sourceAddress: the next hop is the node's InternalIP (gobgpd refuses loopback ones).
    expect(attr(path, 3)).toMatchObject({ nexthop: '10.0.0.11' });
    expect(attr(path, 8)).toMatchObject({ communities: [65005 * 65536 + 10, 65005 * 65536 + 20] });
    expect(attr(path, 32)).toMatchObject({
      value: [{ ASN: 65005, LocalData1: 1, LocalData2: 2 }],
    });
    expect(part?.ready()).toBe(true);
  }, 90_000);

  it('BGPSessionStatus shows the session Established, and the stale object of a former peer is gone', async () => {
    await waitFor(
      'session status',
      async () => {
        const all = await statuses(bgpSessionStatusKind, 'portico.io/node=n1');
        return all.length === 1 && all[0]?.status?.['state'] === 'Established';
      },
      30_000,
    );
    const [s] = await statuses(bgpSessionStatusKind, 'portico.io/node=n1,portico.io/peer=tor');
    expect(s?.metadata.name).toBe('tor.n1');
    // Deleted by the garbage collector with the Node (not running here).
    expect(s?.metadata.ownerReferences).toMatchObject([{ kind: 'Node', name: 'n1' }]);
    expect(s?.status).toMatchObject({
      node: 'n1',
      peer: 'tor',
      peerAddress: '127.0.0.1',
      state: 'Established',
      bfd: 'none',
      prefixesAnnounced: 1,
    });
    expect(Date.parse(String(s?.status?.['lastTransitionTime']))).not.toBeNaN();
    expect(await statuses(bgpSessionStatusKind, 'portico.io/node=n2')).toEqual([]);
  }, 60_000);

  it('ServiceBGPStatus lists the peer the Service is announced to', async () => {
    await waitFor('service status', async () => (await webStatus()) !== undefined, 30_000);
    const s = await webStatus();
    expect(s?.metadata.name).toBe('default.web.n1');
    expect(s?.status).toEqual({
      node: 'n1',
      serviceName: 'web',
      serviceNamespace: 'default',
      peers: ['tor'],
      prefixes: ['192.0.2.10/32'],
    });
  }, 60_000);

  it('Local with the endpoint on another node withdraws; the endpoint moving here announces again', async () => {
    await raw.patchJson(`/api/v1/namespaces/${APP_NS}/services/web`, {
      spec: { externalTrafficPolicy: 'Local' },
    });
    await waitFor('withdrawn', async () => !(await rib()).has('192.0.2.10/32'), 30_000);
    await waitFor('status removed', async () => (await webStatus()) === undefined, 30_000);
    await endpointOn('n1');
    await waitFor('announced again', async () => (await rib()).has('192.0.2.10/32'), 30_000);
    await waitFor('status back', async () => (await webStatus()) !== undefined, 30_000);
  }, 90_000);

  it('aggregationLength announces the covering prefix instead of the /32', async () => {
    await create(ipAddressPoolKind, 'agg', { addresses: ['198.51.100.0/24'] });
    await create(bgpAdvertisementKind, 'agg-ad', { ipAddressPools: ['agg'], aggregationLength: 24 });
    await core.createNamespacedService({
      namespace: APP_NS,
      body: {
        metadata: { name: 'agg' },
        spec: {
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Cluster',
          ports: [{ port: 80, targetPort: 8080 }],
        },
      },
    });
    const svc = await core.readNamespacedService({ namespace: APP_NS, name: 'agg' });
    svc.status = { loadBalancer: { ingress: [{ ip: '198.51.100.77' }] } };
    await core.replaceNamespacedServiceStatus({ namespace: APP_NS, name: 'agg', body: svc });
    await discovery.createNamespacedEndpointSlice({
      namespace: APP_NS,
      body: {
        addressType: 'IPv4',
        metadata: { name: 'agg-1', labels: { 'kubernetes.io/service-name': 'agg' } },
        endpoints: [{ addresses: ['10.244.1.6'], nodeName: 'n2', conditions: { ready: true } }],
        ports: [{ port: 8080, protocol: 'TCP', name: '' }],
      },
    });
    await waitFor('the /24 in gobgpd', async () => (await rib()).has('198.51.100.0/24'), 30_000);
    expect((await rib()).has('198.51.100.77/32')).toBe(false);
    await core.deleteNamespacedService({ namespace: APP_NS, name: 'agg' });
    await waitFor('the /24 withdrawn', async () => !(await rib()).has('198.51.100.0/24'), 30_000);
  }, 60_000);

  it('a peer that refuses connections shows the error; deleting the BGPPeer deletes its status', async () => {
    await create(bgpPeerKind, 'nobody', {
      myASN: 65005,
      peerASN: 65009,
      peerAddress: '127.0.0.9',
      peerPort: await freePort(),
      connectTime: '1s',
    });
    const nobody = async () =>
      (await statuses(bgpSessionStatusKind, 'portico.io/node=n1,portico.io/peer=nobody'))[0]?.status;
    await waitFor(
      'connect error shown',
      async () => /ECONNREFUSED/.test(String((await nobody())?.['lastError'])),
      30_000,
    );
    expect((await nobody())?.['state']).not.toBe('Established');
    await raw.deleteJson(`${collectionPath(bgpPeerKind, NS)}/nobody`);
    await waitFor('status of the deleted peer gone', async () => (await nobody()) === undefined, 30_000);
    expect(await statuses(bgpSessionStatusKind, 'portico.io/node=n1')).toHaveLength(1);
  }, 60_000);

  it('deleting the Service withdraws its route and deletes its ServiceBGPStatus', async () => {
    await core.deleteNamespacedService({ namespace: APP_NS, name: 'web' });
    await waitFor('withdrawn', async () => !(await rib()).has('192.0.2.10/32'), 30_000);
    await waitFor('status deleted', async () => (await webStatus()) === undefined, 30_000);
    await waitFor(
      'no prefixes on the session',
      async () =>
        (await statuses(bgpSessionStatusKind, 'portico.io/node=n1'))[0]?.status?.['prefixesAnnounced'] === 0,
      30_000,
    );
  }, 60_000);
});
