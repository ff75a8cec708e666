// ARP and NDP answered by exactly one node, the elected one, from real
// speakers in network namespaces; nodeSelectors, interfaces and
// externalTrafficPolicy Local move or limit the answer; ServiceL2Status,
// Events and metrics tell who announces.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import { localSlice } from './kube.ts';
import { L2Env, POOL_V4, POOL_V6, SCOPED_V4, assertLabAvailable } from './setup.ts';

await assertLabAvailable();

describe('L2 announcement (ARP/NDP from real speakers)', () => {
  const t = new L2Env('l2reach');

  beforeAll(async () => {
    await t.setup({ n2: { 'l2.test.portico.io/edge': 'true' } });
  });

  afterAll(async () => {
    await t.teardown();
  });

  it('answers ARP for an IPv4 VIP from exactly one node, the elected one', async () => {
    await t.env.service('web4', { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
    const [ip] = await t.env.waitIngress('web4');
    expect(POOL_V4).toContain(ip);
    const winner = t.expected(ip!);
    const macs = await t.waitArpOnlyFrom(ip!, winner.mac0);
    // Several requests, all answered, every answer from the winner.
    // The others stay silent, kernels included (VIPs on kube-ipvs0, strict ARP).
    expect(new Set(macs)).toEqual(new Set([winner.mac0]));

    const status = await t.l2.waitStatus('web4', winner.name);
    expect(status.status).toMatchObject({ serviceName: 'web4', serviceNamespace: t.env.ns, ips: [ip] });
    const event = await t.env.waitEvent('web4', 'L2Announcing', new RegExp(`${ip} .*node ${winner.name}`));
    expect(event.message).toContain('ARP');

    const metrics = await t.lab.metrics(winner.short);
    expect(metrics).toMatch(/^portico_l2_requests_received_total\{protocol="arp",interface="eth0"\} [1-9]/m);
    expect(metrics).toMatch(/^portico_l2_replies_sent_total\{protocol="arp",interface="eth0"\} [1-9]/m);
    expect(metrics).toMatch(/^portico_l2_gratuitous_sent_total\{protocol="arp",interface="eth0"\} [1-9]/m);
    expect(metrics).toContain(`portico_l2_announcing{ip="${ip}"} 1`);
    for (const n of t.lab.nodes) {
      expect(await t.lab.metrics(n.short)).toContain(
        `portico_l2_announcer{ip="${ip}",namespace="${t.env.ns}",service="web4",node="${winner.name}"} 1`,
      );
    }
  });

  it('answers NDP for an IPv6 VIP from exactly one node, the elected one', async () => {
    await t.env.service('web6', { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' });
    const [ip] = await t.env.waitIngress('web6');
    expect(POOL_V6).toContain(ip);
    const winner = t.expected(ip!);
    expect(new Set(await t.waitNdpOnlyFrom(ip!, winner.mac0))).toEqual(new Set([winner.mac0]));
    await t.l2.waitStatus('web6', winner.name);
    expect(await t.lab.metrics(winner.short)).toMatch(
      /^portico_l2_replies_sent_total\{protocol="ndp",interface="eth0"\} [1-9]/m,
    );
  });

  it('limits the announcement to the nodes and interfaces the L2Advertisement selects', async () => {
    await t.l2.advertisement('edge', {
      ipAddressPools: ['scoped'],
      nodeSelectors: [{ matchLabels: { 'l2.test.portico.io/edge': 'true' } }],
      interfaces: ['eth1'],
    });
    const ip = SCOPED_V4[0]!;
    await t.env.service('edge', { loadBalancerIP: ip });
    await t.env.waitIngress('edge', (ips) => ips.includes(ip));
    const n2 = t.lab.node('n2');
    await t.waitArpOnlyFrom(ip, n2.mac1, 'eth1');
    // Nobody answers on the other segment.
    expect(await t.lab.arping(ip, 'eth0', 2)).toEqual([]);
    const status = await t.l2.waitStatus('edge', n2.name);
    expect(status.status?.interfaces).toEqual([{ name: 'eth1' }]);

    // Move the label: the announcement follows it.
    await t.nodes.label(n2.name, { 'l2.test.portico.io/edge': null });
    await t.nodes.label(t.lab.node('n3').name, { 'l2.test.portico.io/edge': 'true' });
    await t.waitArpOnlyFrom(ip, t.lab.node('n3').mac1, 'eth1');
    await t.l2.waitStatus('edge', t.lab.node('n3').name);
  });

  it('with externalTrafficPolicy Local, announces from a node with a local endpoint', async () => {
    const ip = POOL_V4[9]!;
    await t.env.service('local', { loadBalancerIP: ip, externalTrafficPolicy: 'Local' });
    await t.env.waitIngress('local', (ips) => ips.includes(ip));
    // Put the endpoint on a node the plain election would not pick.
    const others = t.lab.nodes.filter((n) => n.name !== t.expected(ip).name);
    for (const target of others) {
      await localSlice(t.env.client, t.env.ns, 'local', target.name);
      await t.waitArpOnlyFrom(ip, target.mac0);
      await t.l2.waitStatus('local', target.name);
    }
  });

  it('moves the announcement off a NotReady node and a node labelled for exclusion (Node status as backstop)', async () => {
    const s = await t.env.getService('web4');
    const ip = s!.status!.loadBalancer!.ingress![0]!.ip!;
    const owner = t.expected(ip);
    const others = t.lab.nodes.filter((n) => n !== owner);
    // Its speaker still runs and sends heartbeats; the Node says NotReady.
    await t.nodes.setReady(owner.name, 'False');
    await t.waitArpOnlyFrom(ip, t.expected(ip, others).mac0);
    await t.nodes.setReady(owner.name, 'True');
    await t.waitArpOnlyFrom(ip, owner.mac0);
    await t.nodes.label(owner.name, { 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    await t.waitArpOnlyFrom(ip, t.expected(ip, others).mac0);
    await t.nodes.label(owner.name, { 'node.kubernetes.io/exclude-from-external-load-balancers': null });
    await t.waitArpOnlyFrom(ip, owner.mac0);
  });

  it('never has two nodes answering for one VIP once settled', async () => {
    const svcs = ['web4', 'local'];
    for (const name of svcs) {
      const s = await t.env.getService(name);
      const ip = s!.status!.loadBalancer!.ingress![0]!.ip!;
      await waitFor(
        `one answer for ${ip}`,
        async () => new Set(await t.lab.arping(ip, 'eth0', 3)).size === 1,
      );
    }
  });
});
