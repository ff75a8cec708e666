// The operator against a real apiserver: IPAddressPool validation happens in
// the CRD where CEL can say it, and otherwise shows on the pool's status with
// the field named, while the operator keeps running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installCrds } from '../../harness/install-crds.ts';
import { startOperator, waitReady, type OperatorProcess } from '../../harness/operator-process.ts';
import { waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface PoolStatus {
  conditions?: Cond[];
  ipv4?: { total: number; assigned: number; available: number };
  ipv6?: { total: number; assigned: number; available: number; totalExact?: string };
}

const group = 'portico.io';
const version = 'v1alpha1';
const plural = 'ipaddresspools';

describe('operator: IPAddressPool status', () => {
  const kc = sharedKubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = uniqueName('pools');
  let operator: OperatorProcess;

  const createPool = (name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: { apiVersion: `${group}/${version}`, kind: 'IPAddressPool', metadata: { name }, spec },
    });

  const statusOf = async (name: string): Promise<PoolStatus> => {
    const obj = (await custom.getNamespacedCustomObject({ group, version, namespace, plural, name })) as {
      status?: PoolStatus;
    };
    return obj.status ?? {};
  };

  const condition = async (name: string, type: string) =>
    (await statusOf(name)).conditions?.find((c) => c.type === type);

  const waitCondition = async (name: string, type: string, status: string) => {
    let last: Cond | undefined;
    await waitFor(`pool ${name} condition ${type}=${status}`, async () => {
      last = await condition(name, type);
      return last?.status === status;
    });
    return last!;
  };

  beforeAll(async () => {
    await installCrds(kc);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    operator = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace,
      logFile: join(tmpdir(), `${namespace}-operator.log`),
      args: ['--lease-name=portico-operator'],
    });
    await waitReady(operator);
  });

  afterAll(async () => {
    await operator?.stop();
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
  });

  it('counts the addresses of a valid dual-stack pool per family and marks it Ready', async () => {
    await createPool('dual', {
      addresses: ['192.0.2.0/28', '2001:db8::/124', '198.51.100.10-198.51.100.12'],
    });
    await waitCondition('dual', 'Ready', 'True');
    const status = await statusOf('dual');
    expect(status.ipv4).toMatchObject({ total: 19, assigned: 0, available: 19 });
    expect(status.ipv6).toMatchObject({ total: 16, assigned: 0, available: 16 });
    expect((await condition('dual', 'Invalid'))?.status).toBe('False');
  });

  it('reports an IPv6 /64 exactly without enumerating it', async () => {
    await createPool('huge', { addresses: ['2001:db8:1::/64'] });
    await waitCondition('huge', 'Ready', 'True');
    expect((await statusOf('huge')).ipv6?.totalExact).toBe('18446744073709551616');
  });

  it('rejects a malformed CIDR at admission, naming the field', async () => {
    const attempt = createPool('bad-cidr', { addresses: ['192.0.2.0/24', '10.0.0.0/33'] });
    await expect(attempt).rejects.toMatchObject({ code: 422 });
    await expect(attempt).rejects.toThrow(/spec\.addresses\[1\]/);
  });

  it('flags a reversed range as Invalid on status, naming the field, and keeps running', async () => {
    await createPool('reversed', { addresses: ['203.0.113.9-203.0.113.1'] });
    const invalid = await waitCondition('reversed', 'Invalid', 'True');
    expect(invalid.message).toMatch(/spec\.addresses\[0\]/);
    expect(invalid.message).toMatch(/start is after its end/);
    expect((await condition('reversed', 'Ready'))?.status).toBe('False');
    expect(operator.child.exitCode).toBeNull();
    expect(await operator.ready()).toBe(true);
  });

  it('flags the newer of two overlapping pools with Overlap and Invalid, naming the other pool', async () => {
    await createPool('older', { addresses: ['100.64.0.0/28'] });
    await waitCondition('older', 'Ready', 'True');
    await createPool('newer', { addresses: ['100.64.0.8/29'] });
    const overlap = await waitCondition('newer', 'Overlap', 'True');
    expect(overlap.message).toMatch(/spec\.addresses\[0\]/);
    expect(overlap.message).toMatch(/"older"/);
    expect((await condition('newer', 'Invalid'))?.status).toBe('True');
    expect((await condition('older', 'Ready'))?.status).toBe('True');
  });

  it('clears the overlap once the older pool is deleted', async () => {
    await custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name: 'older' });
    await waitCondition('newer', 'Ready', 'True');
    expect((await condition('newer', 'Overlap'))?.status).toBe('False');
  });
});
