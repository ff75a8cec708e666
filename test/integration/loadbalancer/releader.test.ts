// One operator loses its Lease to another holder and wins it back in the same
// process: its controllers must stop, then start again and serve as before
// (the addresses it gave out stay, new Services get addresses, no duplicates).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import { LbEnv } from './helpers.ts';

const LEASE = 'portico-operator';

describe('loadbalancer: leadership lost and won back in one process', () => {
  const env = new LbEnv('lb-releader');
  let leaderMetric: () => Promise<string>;

  beforeAll(async () => {
    await env.setup();
    const op = await env.waitLeading();
    leaderMetric = async () =>
      /^portico_operator_leader (\d)$/m.exec(
        await (await fetch(`http://127.0.0.1:${op.healthPort}/metrics`)).text(),
      )?.[1] ?? '';
    await env.pool('main', { addresses: ['198.18.40.0/29'] });
  });
  afterAll(() => env.teardown());

  it('stops leading when another holder takes the Lease, then leads and allocates again', async () => {
    await env.service('before');
    const before = await env.waitIngress('before');

    // Someone else takes the Lease for 3 s and never renews it.
    const path = `/apis/coordination.k8s.io/v1/namespaces/${env.portico}/leases/${LEASE}`;
    await waitFor('the Lease taken over', async () => {
      const lease = await env.client.getJson<{ metadata: object; spec: Record<string, unknown> }>(path);
      const now = new Date().toISOString().replace('Z', '000Z');
      await env.client.putJson(path, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: 'intruder',
          leaseDurationSeconds: 3,
          renewTime: now,
          acquireTime: now,
        },
      });
      return true;
    });
    await waitFor('the operator to step down', async () => (await leaderMetric()) === '0');
    await waitFor('the operator to lead again', async () => (await leaderMetric()) === '1');

    await env.service('after');
    const after = await env.waitIngress('after');
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(await env.waitIngress('before')).toEqual(before);
  });
});
