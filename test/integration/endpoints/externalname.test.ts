// ExternalName validation Events, the opt-in companion ClusterIP Service with
// ServiceBackends resolved through a real dnsmasq, and Warning Events for bad
// hand-written Endpoints; against the real apiserver and controller-manager.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrds } from '../../harness/install-crds.ts';
import { startOperator, waitReady } from '../../harness/operator-process.ts';
import type { OperatorProcess } from '../../harness/operator-process.ts';
import { waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';
import { Dnsmasq } from '../../harness/dnsmasq.ts';
import { Kube } from './helpers/kube.ts';
import { endpointsArgs } from './helpers/operator.ts';

const OPT_IN = 'portico.io/externalname-backends';

describe('ExternalName Services and hand-written Endpoints', () => {
  const kc = sharedKubeConfig();
  const kube = new Kube(kc, uniqueName('extname'));
  const dir = mkdtempSync(join(tmpdir(), 'portico-extname-'));
  let dns: Dnsmasq;
  let operator: OperatorProcess;

  beforeAll(async () => {
    await installCrds(kc);
    await kube.createNamespace();
    writeFileSync(join(dir, 'hosts'), '192.0.2.31 db.backends.test\n192.0.2.32 db.backends.test\n');
    dns = await Dnsmasq.start(join(dir, 'hosts'), join(dir, 'dnsmasq.log'));
    operator = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace: kube.ns,
      logFile: join(dir, 'operator.log'),
      args: endpointsArgs(dns.server),
    });
    await waitReady(operator);
  });

  afterAll(async () => {
    await operator?.stop();
    await dns?.stop();
    await kube.deleteNamespace();
  });

  const externalName = (name: string, target: string, annotations: Record<string, string> = {}) =>
    kube.service(
      name,
      { type: 'ExternalName', externalName: target, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
      { annotations },
    );

  it('warns when externalName is an IP address', async () => {
    await externalName('by-ip', '10.0.0.5');
    const e = await kube.waitEvent('by-ip', 'ExternalNameIsIPAddress');
    expect(e).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Service', name: 'by-ip' } });
    expect(e.message).toMatch(/^spec\.externalName: "10\.0\.0\.5" is an IP address/);
  });

  it('warns when externalName is not a valid DNS name (a label over 63 characters)', async () => {
    const long = `${'a'.repeat(64)}.example.com`;
    await externalName('long-label', long);
    const e = await kube.waitEvent('long-label', 'InvalidExternalName');
    expect(e.type).toBe('Warning');
    expect(e.message).toMatch(/is 64 characters long \(at most 63\)/);
    // A valid name gets no Event.
    await externalName('fine', 'db.example.com');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await kube.events('fine')).toEqual([]);
  });

  it('with opt-in, keeps a companion ClusterIP Service whose slices hold the resolved addresses', async () => {
    await externalName('db', 'db.backends.test', { [OPT_IN]: 'true' });
    const owner = await kube.getService('db');
    await waitFor('companion Service', () => kube.exists('services', 'db-portico-backends'));
    const companion = await kube.getService('db-portico-backends');
    expect(companion.metadata.labels).toMatchObject({ 'portico.io/companion-of': 'db' });
    expect(companion.metadata.ownerReferences?.map((r) => r.uid)).toEqual([owner.metadata.uid]);
    expect(companion.spec).toMatchObject({
      type: 'ClusterIP',
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 5432 }],
    });
    expect(companion.spec['selector']).toBeUndefined();
    expect(companion.spec['clusterIP']).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const sb = await kube.getBackends('db-portico-backends');
    expect(sb.spec).toMatchObject({
      serviceName: 'db-portico-backends',
      backends: [{ hostname: 'db.backends.test' }],
    });
    await kube.waitPublished('db-portico-backends', { '192.0.2.31': true, '192.0.2.32': true });
    expect((await kube.portico('db-portico-backends'))[0]?.ports).toEqual([
      { name: 'pg', port: 5432, protocol: 'TCP' },
    ]);
  });

  it('follows changes of the ports', async () => {
    await kube.patchService('db', {
      spec: { ports: [{ name: 'pg', port: 5432, targetPort: 6432, protocol: 'TCP' }] },
    });
    await waitFor('companion slices use the new target port', async () =>
      (await kube.portico('db-portico-backends')).some((s) => s.ports?.[0]?.port === 6432),
    );
    expect((await kube.getService('db-portico-backends')).spec['ports']).toMatchObject([
      { port: 5432, targetPort: 6432 },
    ]);
  });

  it('deletes the companion when the opt-in is removed, and again when the Service goes away', async () => {
    await kube.patchService('db', { metadata: { annotations: { [OPT_IN]: null } } });
    await waitFor('companion deleted', async () => !(await kube.exists('services', 'db-portico-backends')));
    await waitFor(
      'companion backends deleted',
      async () => !(await kube.exists('servicebackends', 'db-portico-backends')),
    );

    await kube.patchService('db', { metadata: { annotations: { [OPT_IN]: 'true' } } });
    await waitFor('companion recreated', () => kube.exists('servicebackends', 'db-portico-backends'));
    await kube.deleteService('db');
    await waitFor(
      'companion deleted with its Service',
      async () => !(await kube.exists('services', 'db-portico-backends')),
    );
    await waitFor(
      'companion backends deleted',
      async () => !(await kube.exists('servicebackends', 'db-portico-backends')),
    );
  });

  it('warns about hand-written Endpoints pointing at a ClusterIP or a non-canonical address, naming each', async () => {
    await kube.service('target', { selector: { app: 'target' }, ports: [{ port: 80 }] });
    const clusterIP = (await kube.getService('target')).spec['clusterIP'] as string;
    await kube.service('legacy', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
    await kube.client.postJson(`/api/v1/namespaces/${kube.ns}/endpoints`, {
      metadata: { name: 'legacy' },
      subsets: [
        {
          addresses: [{ ip: '192.0.2.40' }, { ip: clusterIP }, { ip: '2001:DB8::41' }],
          ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
        },
      ],
    });
    const vip = await kube.waitEvent('legacy', 'EndpointAddressIsClusterIP');
    expect(vip).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Endpoints', name: 'legacy' } });
    expect(vip.message).toBe(
      `subsets[0].addresses[1].ip: address "${clusterIP}" is the ClusterIP of Service "${kube.ns}/target"; an endpoint must be a backend, not a virtual IP`,
    );
    const odd = await kube.waitEvent('legacy', 'MalformedEndpointAddress');
    expect(odd.message).toBe(
      'subsets[0].addresses[2].ip: address "2001:DB8::41" is not in canonical form; write "2001:db8::41"',
    );
    // Kubernetes' mirroring is left to do its job.
    await waitFor('mirrored slice', async () =>
      (await kube.slices('legacy')).some(
        (s) =>
          s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] ===
          'endpointslicemirroring-controller.k8s.io',
      ),
    );
    // The apiserver itself refuses loopback addresses in Endpoints.
    await expect(
      kube.client.postJson(`/api/v1/namespaces/${kube.ns}/endpoints`, {
        metadata: { name: 'loop' },
        subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }],
      }),
    ).rejects.toMatchObject({ code: 422 });
  });
});
