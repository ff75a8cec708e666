// Two operator processes under leader election against a real apiserver:
// exactly one leads; SIGKILL it and the other takes over; SIGTERM releases the
// Lease so the standby takes over without waiting for it to expire.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installCrds } from '../../harness/install-crds.ts';
import { startOperator, waitReady, type OperatorProcess } from '../../harness/operator-process.ts';
import { waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';

const LEASE = 'portico-operator';
// Short periods keep the test quick; the defaults (15s/10s/2s) behave the same.
const TIMING = ['--lease-duration=4s', '--renew-deadline=3s', '--retry-period=500ms'];

async function isLeader(op: OperatorProcess): Promise<boolean> {
  const text = await (await fetch(`http://127.0.0.1:${op.healthPort}/metrics`)).text();
  return /^portico_operator_leader 1$/m.test(text);
}

describe('operator: leader election', () => {
  const kc = sharedKubeConfig();
  const leases = kc.makeApiClient(CoordinationV1Api);
  const namespace = uniqueName('leader');
  const ops = new Map<string, OperatorProcess>();

  const start = async (identity: string) => {
    const op = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace,
      logFile: join(tmpdir(), `${namespace}-${identity}.log`),
      args: [`--identity=${identity}`, ...TIMING],
    });
    ops.set(identity, op);
    await waitReady(op);
    return op;
  };
  const holder = async () =>
    (await leases.readNamespacedLease({ name: LEASE, namespace })).spec?.holderIdentity ?? '';

  beforeAll(async () => {
    await installCrds(kc);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    await start('op-a');
    await start('op-b');
  });

  afterAll(async () => {
    for (const op of ops.values()) await op.stop('SIGKILL');
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
  });

  it('elects exactly one leader', async () => {
    await waitFor('a Lease holder', async () => (await holder()) !== '');
    const leader = await holder();
    expect(['op-a', 'op-b']).toContain(leader);
    await waitFor('the holder to report itself leader', () => isLeader(ops.get(leader)!));
    const leading = await Promise.all([...ops.values()].map(isLeader));
    expect(leading.filter(Boolean)).toHaveLength(1);
  });

  it('moves leadership to the survivor when the leader is SIGKILLed', async () => {
    const leader = await holder();
    const survivor = leader === 'op-a' ? 'op-b' : 'op-a';
    await ops.get(leader)!.stop('SIGKILL');
    ops.delete(leader);
    // The survivor must wait out the Lease (4s) since the dead leader never released it.
    await waitFor('the survivor to take the Lease', async () => (await holder()) === survivor, 30_000);
    await waitFor('the survivor to lead', () => isLeader(ops.get(survivor)!));
  });

  it('releases the Lease on SIGTERM, so a standby takes over', async () => {
    const leader = await holder();
    await start('op-c');
    await ops.get(leader)!.stop('SIGTERM');
    ops.delete(leader);
    await waitFor('op-c to take the released Lease', async () => (await holder()) === 'op-c', 30_000);
    expect(await isLeader(ops.get('op-c')!)).toBe(true);
  });
});
