// Sticky IPs and start-up: a Service deleted and created again gets its old
// address back, also across operator restarts (the reservation lives in an
// IPReservation object); the operator rebuilds every assignment from Service
// status before it hands out anything new, and flags a conflicting claim.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import { ingressIPs, LbEnv, settle } from './helpers.ts';

describe('loadbalancer: sticky IPs and restarts', () => {
  const env = new LbEnv('lb-sticky');
  const restart = async (signal: NodeJS.Signals, args: string[] = [], whileDown?: () => Promise<void>) => {
    await env.stopOperators(signal);
    await whileDown?.();
    await env.startOperator(args);
    await env.waitLeading();
  };
  const releasedAt = async (name: string) =>
    (await env.reservation(name))?.spec.releasedAt as string | undefined;

  beforeAll(async () => {
    await env.setup();
    await env.pool('sticky', { addresses: ['198.18.15.0/29'] });
  });
  afterAll(() => env.teardown());

  it('records a reservation while the Service holds its address', async () => {
    await env.service('web');
    expect(await env.waitIngress('web')).toEqual(['198.18.15.0']);
    await waitFor('the IPReservation', async () => (await env.reservation('web')) !== undefined);
    const r = await env.reservation('web');
    expect(r?.spec).toMatchObject({
      serviceNamespace: env.ns,
      serviceName: 'web',
      serviceUID: (await env.getService('web'))?.metadata.uid,
      pool: 'sticky',
      ips: ['198.18.15.0'],
    });
    expect(r?.spec.releasedAt).toBeUndefined();
  });

  it('gives a re-created Service its old address, which nobody else got meanwhile', async () => {
    await env.deleteService('web');
    await waitFor('releasedAt', async () => (await releasedAt('web')) !== undefined);
    await env.service('other');
    expect(await env.waitIngress('other')).toEqual(['198.18.15.1']);
    await env.service('web');
    expect(await env.waitIngress('web')).toEqual(['198.18.15.0']);
    await env.waitEvent('web', 'IPAllocated', /sticky reservation/);
    await waitFor(
      'the reservation to follow the new Service',
      async () => (await releasedAt('web')) === undefined,
    );
  });

  it('keeps the address across an operator restart while the Service is deleted', async () => {
    await restart('SIGTERM', [], () => env.deleteService('web'));
    // The operator first sees the Service gone at start-up and starts the hold then.
    await waitFor('releasedAt', async () => (await releasedAt('web')) !== undefined);
    await env.service('filler');
    expect(await env.waitIngress('filler')).toEqual(['198.18.15.2']);
    await env.service('web');
    expect(await env.waitIngress('web')).toEqual(['198.18.15.0']);
  });

  it('keeps every assignment across a SIGKILL and hands out nothing twice', async () => {
    const before = new Map<string, string[]>();
    for (const name of ['web', 'other', 'filler']) before.set(name, ingressIPs(await env.getService(name)));
    await restart('SIGKILL');
    await env.service('newcomer');
    expect(await env.waitIngress('newcomer')).toEqual(['198.18.15.3']);
    for (const [name, ips] of before) expect(ingressIPs(await env.getService(name))).toEqual(ips);
  });

  it('keeps the older of two Services claiming one address at start-up and flags the other', async () => {
    await restart('SIGTERM', [], async () => {
      // State no operator would write: two Services showing one address.
      for (const name of ['claim-old', 'claim-young']) {
        await env.service(name);
        await env.client.putJson(`/api/v1/namespaces/${env.ns}/services/${name}/status`, {
          ...(await env.getService(name)),
          status: { loadBalancer: { ingress: [{ ip: '198.18.15.6', ipMode: 'VIP' }] } },
        });
        await settle(1_100); // creationTimestamp has one-second resolution
      }
    });
    const e = await env.waitEvent('claim-young', 'IPInUse', /at start-up/);
    expect(e.type).toBe('Warning');
    expect(e.message).toContain(`${env.ns}/claim-old`);
    expect(await env.waitIngress('claim-young', (ips) => ips.length > 0 && ips[0] !== '198.18.15.6')).toEqual(
      ['198.18.15.4'],
    );
    expect(ingressIPs(await env.getService('claim-old'))).toEqual(['198.18.15.6']);
  });

  it('shows pool counts that add up', async () => {
    const services = (
      await env.client.getJson<{ items: { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }[] }>(
        `/api/v1/namespaces/${env.ns}/services`,
      )
    ).items;
    const inUse = new Set(services.flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)));
    await waitFor('pool status to show every address in use', async () => {
      const st = await env.poolStatus('sticky');
      return st.ipv4?.assigned === inUse.size;
    });
    const st = await env.poolStatus('sticky');
    expect(st.ipv4).toMatchObject({ total: 8, assigned: inUse.size, available: 8 - inUse.size });
    expect(st.ipv4!.assigned + st.ipv4!.available).toBe(st.ipv4!.total);

    // A deleted Service's address is held for its name: reserved, not available.
    const [fillerIP] = ingressIPs(await env.getService('filler'));
    await env.deleteService('filler');
    await waitFor('pool status to show the reservation', async () => {
      const now = await env.poolStatus('sticky');
      return now.ipv4?.reserved === 1 && now.ipv4.assigned === inUse.size - 1;
    });
    const held = (await env.poolStatus('sticky')).ipv4!;
    expect(held.assigned + held.reserved! + held.available).toBe(held.total);
    await env.service('filler');
    expect(await env.waitIngress('filler')).toEqual([fillerIP]);
    await waitFor('the reservation to count as assigned again', async () => {
      const now = await env.poolStatus('sticky');
      return now.ipv4?.reserved === undefined && now.ipv4?.assigned === inUse.size;
    });
  });

  it('lets the reservation go after the hold time', async () => {
    await restart('SIGTERM', ['--sticky-hold=3s']);
    const [ip] = ingressIPs(await env.getService('newcomer'));
    await env.deleteService('newcomer');
    await waitFor(
      'the reservation to expire and be deleted',
      async () => (await env.reservation('newcomer')) === undefined,
      20_000,
    );
    await env.service('late');
    expect(await env.waitIngress('late')).toEqual([ip]);
  });
});
