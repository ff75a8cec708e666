// Failover with real speakers: SIGKILL the announcing speaker, and separately
// cut its node's links. Another node takes over, its gratuitous ARP moves the
// client's neighbour entry (no traffic is sent meanwhile, so nothing else
// could have moved it), and once settled exactly one node answers. When the
// old node comes back, the election gives it its IP back, again with one
// answer only.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LabNode } from '../../harness/l2-lab.ts';
import { waitFor } from '../../harness/processes.ts';
import { L2Env, assertLabAvailable } from './setup.ts';

await assertLabAvailable();

describe('L2 failover (real speakers)', () => {
  const t = new L2Env('l2fail');
  let ip = '';
  let first: LabNode;

  beforeAll(async () => {
    await t.setup();
    await t.env.service('fo', { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
    [ip] = (await t.env.waitIngress('fo')) as [string];
    first = t.expected(ip);
    await t.waitArpOnlyFrom(ip, first.mac0);
  });

  afterAll(async () => {
    await t.teardown();
  });

  /** Makes the client's kernel resolve ip (a connection attempt; nobody listens) and returns its entry. */
  async function resolveOnClient(): Promise<string> {
    await t.lab.tryExec(t.lab.client, ['curl', '-s', '--connect-timeout', '0.5', `http://${ip}/`]);
    let mac = '';
    await waitFor(`client neighbour entry for ${ip}`, async () => {
      mac = (await t.lab.neighbour(ip))?.mac ?? '';
      return mac !== '';
    });
    return mac;
  }

  async function takeover(dead: LabNode): Promise<LabNode> {
    const next = t.expected(
      ip,
      t.lab.nodes.filter((n) => n !== dead),
    );
    // Only the gratuitous ARP can move the entry: the client sends nothing until it has.
    await waitFor(
      `client neighbour entry for ${ip} moved to ${next.name}`,
      async () => (await t.lab.neighbour(ip))?.mac === next.mac0,
      30_000,
      50,
    );
    await t.waitArpOnlyFrom(ip, next.mac0);
    return next;
  }

  it('SIGKILL of the announcing speaker: another node takes over and its gratuitous ARP updates the client', async () => {
    expect(await resolveOnClient()).toBe(first.mac0);
    await t.lab.stopSpeaker(first.short, 'SIGKILL');
    const next = await takeover(first);
    await t.l2.waitStatus('fo', next.name);
    await t.env.waitEvent('fo', 'L2Announcing', new RegExp(`${ip} .*node ${next.name}`));
    expect(await t.lab.metrics(next.short)).toMatch(/^portico_l2_takeovers_total [1-9]/m);
  });

  it('the restarted speaker gets its IP back, with one answer only', async () => {
    await t.startSpeaker(first.short);
    await t.waitArpOnlyFrom(ip, first.mac0);
    await waitFor(
      'client entry back on the first node',
      async () => (await t.lab.neighbour(ip))?.mac === first.mac0,
    );
    await t.waitArpOnlyFrom(ip, first.mac0);
  });

  it("cutting the announcing node's links: another node takes over and updates the client", async () => {
    expect((await t.lab.neighbour(ip))?.mac).toBe(first.mac0);
    await t.lab.setLink(first.short, false);
    await takeover(first);
  });

  it('after the partition heals, exactly one node answers again', async () => {
    await t.lab.setLink(first.short, true);
    await t.waitArpOnlyFrom(ip, first.mac0);
    await t.l2.waitStatus('fo', first.name);
  });

  it('SIGTERM hands over at once through the goodbye, and only one node answers', async () => {
    await t.lab.stopSpeaker(first.short, 'SIGTERM');
    const next = await takeover(first);
    await t.waitArpOnlyFrom(ip, next.mac0);
  });

  it("IPv6: the new winner's unsolicited NA (Override) updates the client's neighbour entry", async () => {
    await t.startSpeaker(first.short);
    await t.env.service('fo6', { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' });
    const [ip6] = (await t.env.waitIngress('fo6')) as [string];
    const owner = t.expected(ip6);
    await t.waitNdpOnlyFrom(ip6, owner.mac0);
    await t.lab.tryExec(t.lab.client, ['curl', '-s', '--connect-timeout', '0.5', `http://[${ip6}]/`]);
    await waitFor(`client entry for ${ip6}`, async () => (await t.lab.neighbour(ip6))?.mac === owner.mac0);
    await t.lab.stopSpeaker(owner.short, 'SIGKILL');
    const next = t.expected(
      ip6,
      t.lab.nodes.filter((n) => n !== owner),
    );
    await waitFor(
      `client entry for ${ip6} moved to ${next.name}`,
      async () => (await t.lab.neighbour(ip6))?.mac === next.mac0,
      30_000,
      50,
    );
    await t.waitNdpOnlyFrom(ip6, next.mac0);
  });
});
