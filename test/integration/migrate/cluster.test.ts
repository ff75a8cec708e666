// migrate-metallb --kubeconfig: with (minimal) metallb.io CRDs installed in
// the harness apiserver and MetalLB's documented configuration stored in
// them, the command reads the objects back (BGPPeer at v1beta2), MetalLB's
// legacy ConfigMap and the LoadBalancer Services, and writes the same
// conversion as from files, including the reservation for a Service's
// MetalLB address. Other tests' Services share this apiserver, so only what
// concerns this file's objects is asserted.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';
import { installMetalLBCrds, removeMetalLBCrds } from './metallb-crds.ts';
import { runMigrate } from './run-command.ts';
import type { CommandResult } from './run-command.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

const PLURALS: Record<string, string> = {
  IPAddressPool: 'ipaddresspools',
  L2Advertisement: 'l2advertisements',
  BGPAdvertisement: 'bgpadvertisements',
  BGPPeer: 'bgppeers',
  BFDProfile: 'bfdprofiles',
  Community: 'communities',
};

const fixture = readFileSync(new URL('../../fixtures/metallb-upstream.yaml', import.meta.url), 'utf8');
const sources = parseAllDocuments(fixture).map((d) => d.toJS() as Obj);

describe('migrate-metallb --kubeconfig', () => {
  const client = RawKubeClient.fromKubeConfig(sharedKubeConfig());
  const metallbNs = uniqueName('mig-metallb');
  const appNs = uniqueName('mig-app');
  let result: CommandResult;
  let objects: Obj[] = [];

  beforeAll(async () => {
    await installMetalLBCrds(client);
    for (const ns of [metallbNs, appNs])
      await client.postJson('/api/v1/namespaces', { metadata: { name: ns } });
    for (const o of sources) {
      const [group, version] = o.apiVersion.split('/');
      await client.postJson(`/apis/${group}/${version}/namespaces/${metallbNs}/${PLURALS[o.kind]}`, {
        ...o,
        metadata: { ...o.metadata, namespace: metallbNs },
      });
    }
    await client.postJson(`/api/v1/namespaces/${metallbNs}/configmaps`, {
      metadata: { name: 'config' },
      data: {
        config: 'address-pools:\n- name: legacy\n  protocol: layer2\n  addresses: [192.168.30.0/28]\n',
      },
    });
    await client.postJson(`/api/v1/namespaces/${appNs}/services`, {
      metadata: { name: 'web', annotations: { 'metallb.io/ip-allocated-from-pool': 'first-pool' } },
      spec: {
        type: 'LoadBalancer',
        // A class no operator serves, so nothing else touches its status.
        loadBalancerClass: `test.portico.io/${appNs}`,
        allocateLoadBalancerNodePorts: false,
        selector: { app: 'web' },
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    });
    await client.patchJson(`/api/v1/namespaces/${appNs}/services/web/status`, {
      status: { loadBalancer: { ingress: [{ ip: '192.168.10.7', ipMode: 'VIP' }] } },
    });
    result = await runMigrate(['--kubeconfig', sharedKubeconfigPath(), '--namespace', 'portico-target']);
    objects = parseAllDocuments(result.stdout).map((d) => d.toJS() as Obj);
  });
  afterAll(async () => {
    await removeMetalLBCrds(client);
    for (const ns of [metallbNs, appNs])
      await client.deleteJson(`/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  it('converts every stored metallb.io object, as from files', () => {
    // Other tests' Services may add their own errors; none may concern this file's objects.
    expect([0, 3]).toContain(result.code);
    expect(result.stderr).toMatch(/read \d+ BGPPeer object\(s\) \(metallb\.io\/v1beta2\)/);
    for (const src of sources) {
      const out = objects.find((o) => o.kind === src.kind && o.metadata.name === src.metadata.name);
      expect(out?.metadata.namespace).toBe('portico-target');
      if (src.kind !== 'BGPPeer') expect(out?.spec).toEqual(src.spec ?? {});
    }
    expect(objects.find((o) => o.kind === 'BGPPeer' && o.metadata.name === 'dynamic')?.spec).toMatchObject({
      myASN: 64512,
      dynamicASN: 'external',
      peerAddress: '172.30.0.5',
    });
    // Nothing about this file's objects is unmappable.
    const errors = result.stderr.split('Mapped, but check')[0]!.split('Could not map')[1] ?? '';
    expect(errors).not.toContain(metallbNs);
    expect(errors).not.toContain(appNs);
  });

  it('reads the legacy ConfigMap MetalLB used before its CRDs', () => {
    expect(objects.find((o) => o.kind === 'IPAddressPool' && o.metadata.name === 'legacy')?.spec).toEqual({
      addresses: ['192.168.30.0/28'],
    });
    expect(objects.find((o) => o.kind === 'L2Advertisement' && o.metadata.name === 'legacy')?.spec).toEqual({
      ipAddressPools: ['legacy'],
    });
    expect(result.stderr).toMatch(/read the legacy MetalLB ConfigMap/);
  });

  it("writes a reservation for the Service's MetalLB address, with its UID", async () => {
    const svc = await client.getJson<{ metadata: { uid: string } }>(
      `/api/v1/namespaces/${appNs}/services/web`,
    );
    expect(objects.find((o) => o.kind === 'IPReservation' && o.metadata.name === `${appNs}.web`)).toEqual({
      apiVersion: 'portico.io/v1alpha1',
      kind: 'IPReservation',
      metadata: {
        name: `${appNs}.web`,
        namespace: 'portico-target',
        labels: { 'app.kubernetes.io/managed-by': 'portico' },
      },
      spec: {
        serviceNamespace: appNs,
        serviceName: 'web',
        serviceUID: svc.metadata.uid,
        pool: 'first-pool',
        ips: ['192.168.10.7'],
      },
    });
  });
});
