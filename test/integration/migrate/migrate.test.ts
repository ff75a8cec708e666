// migrate-metallb end to end against the harness apiserver and a real
// operator: the command converts MetalLB's documented configuration plus
// Services as MetalLB left them; the apiserver accepts every object it
// writes; and Portico then behaves as MetalLB did. A Service keeps the
// address MetalLB gave it (from its status, or from the converted reservation
// when the status was wiped on the way), and new Services get addresses from
// the converted pools by MetalLB's rules: autoAssign, avoidBuggyIPs and
// serviceAllocation.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseAllDocuments, stringify } from 'yaml';
import { isAlreadyExists } from '../../../lib/errors.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { uniqueName } from '../../harness/shared.ts';
import { LbEnv, POOL_ANNOTATION } from '../loadbalancer/helpers.ts';
import { runMigrate } from './run-command.ts';

const fixture = (name: string) => new URL(`../../fixtures/${name}`, import.meta.url).pathname;

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

const PLURALS: Record<string, string> = {
  IPAddressPool: 'ipaddresspools',
  L2Advertisement: 'l2advertisements',
  BGPAdvertisement: 'bgpadvertisements',
  BGPPeer: 'bgppeers',
  BFDProfile: 'bfdprofiles',
  Community: 'communities',
  IPReservation: 'ipreservations',
};

describe('migrate-metallb: converted output in a real cluster', () => {
  const env = new LbEnv('mig');
  const dir = mkdtempSync(join(tmpdir(), 'migrate-metallb-'));
  const out = join(dir, 'portico.yaml');
  let objects: Obj[] = [];
  let command = { code: -1, stdout: '', stderr: '' };

  /** A Service as MetalLB left it: our class (this file's), MetalLB's annotation, the address in status. */
  const metallbService = (name: string, ip: string) => ({
    ...env.serviceBody(name, { annotations: { 'metallb.io/ip-allocated-from-pool': 'first-pool' } }),
    metadata: { name, namespace: env.ns, annotations: { 'metallb.io/ip-allocated-from-pool': 'first-pool' } },
    status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } },
  });

  const create = (o: Obj) =>
    env.client.postJson(`/apis/portico.io/v1alpha1/namespaces/${o.metadata.namespace}/${PLURALS[o.kind]}`, o);

  beforeAll(async () => {
    await installCrds(env.kc);
    await env.namespace(env.portico);
    await env.namespace(env.ns);
    for (const ns of ['namespace-a', 'namespace-b']) {
      await env.namespace(ns).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
    }
    const services = [metallbService('kept', '192.168.10.7'), metallbService('wiped', '192.168.10.8')];
    const servicesFile = join(dir, 'services.yaml');
    writeFileSync(servicesFile, services.map((s) => `---\n${stringify(s)}`).join(''));
    command = await runMigrate([
      '--from-file',
      fixture('metallb-upstream.yaml'),
      '--from-file',
      servicesFile,
      '--namespace',
      env.portico,
      '--out',
      out,
    ]);
    objects = parseAllDocuments(readFileSync(out, 'utf8')).map((d) => d.toJS() as Obj);
    for (const o of objects) await create(o);

    // The cluster as MetalLB leaves it: "kept" still shows its address,
    // "wiped" lost it (MetalLB clears status when its pools go first).
    for (const s of services) {
      const { status, ...body } = s;
      await env.client.postJson(`/api/v1/namespaces/${env.ns}/services`, body);
      if (s.metadata.name === 'kept') {
        await env.client.patchJson(`/api/v1/namespaces/${env.ns}/services/kept/status`, { status });
      }
    }
    // A longer lease than LbEnv's default: this file only needs one steady
    // leader, and a loaded machine can miss a 3s renew deadline.
    await env.startOperator(['--lease-duration=30s', '--renew-deadline=20s', '--retry-period=2s']);
    await env.waitLeading();
  });
  afterAll(() => env.teardown());

  it('exits 0 with everything mapped and the notes a user must act on', () => {
    expect(command.code).toBe(0);
    expect(command.stderr).toMatch(/Everything mapped\./);
    expect(command.stderr).toMatch(/copy Secret metallb-system\/secretname/);
    expect(command.stderr).toMatch(/--load-balancer-class=test\.portico\.io\//);
    expect(objects.filter((o) => o.kind === 'IPReservation').map((o) => o.metadata.name)).toEqual([
      `${env.ns}.kept`,
      `${env.ns}.wiped`,
    ]);
  });

  it('writes objects the apiserver accepts, each kind of the MetalLB configuration included', async () => {
    expect(new Set(objects.map((o) => o.kind))).toEqual(new Set(Object.keys(PLURALS)));
    for (const o of objects) {
      const stored = await env.client.getJson<Obj>(
        `/apis/portico.io/v1alpha1/namespaces/${env.portico}/${PLURALS[o.kind]}/${o.metadata.name}`,
      );
      expect(stored.spec).toMatchObject(o.spec);
    }
    for (const pool of ['first-pool', 'cheap', 'ippool-ns-service-alloc-sample', 'bgp-pool']) {
      await env.waitPoolReady(pool);
    }
  });

  it('lets a Service keep the address MetalLB gave it', async () => {
    expect(await env.waitIngress('kept', (ips) => ips.length > 0)).toEqual(['192.168.10.7']);
    expect((await env.getService('kept'))?.metadata.annotations?.[POOL_ANNOTATION]).toBe('first-pool');
  });

  it('gives a Service whose status was wiped its old address back from the converted reservation', async () => {
    expect(await env.waitIngress('wiped')).toEqual(['192.168.10.8']);
  });

  it('hands a new Service the first free address of the autoAssign pool', async () => {
    await env.service('fresh');
    expect(await env.waitIngress('fresh')).toEqual(['192.168.10.0']);
  });

  it('uses an autoAssign: false pool only when asked, through the MetalLB annotation', async () => {
    await env.service('cheap-svc', { annotations: { 'metallb.universe.tf/address-pool': 'cheap' } });
    expect(await env.waitIngress('cheap-svc')).toEqual(['192.168.144.0']);
  });

  it('serves the serviceAllocation pool first to the Services it selects, skipping .0 (avoidBuggyIPs)', async () => {
    const name = uniqueName('selected');
    await env.service(name, { namespace: 'namespace-a', labels: { app: 'bar' } });
    expect(await env.waitIngress(name, undefined, 'namespace-a')).toEqual(['192.168.20.1']);
    await env.client.deleteJson(`/api/v1/namespaces/namespace-a/services/${name}`);
  });
});

describe("migrate-metallb: the shared fixture's examples", () => {
  const env = new LbEnv('mig-ex');

  beforeAll(async () => {
    await installCrds(env.kc);
    await env.namespace(env.portico);
  });
  afterAll(() => env.teardown());

  it('exits 3 naming the dangling references, and the apiserver accepts everything it wrote', async () => {
    const r = await runMigrate(['--from-file', fixture('metallb-examples.yaml'), '--namespace', env.portico]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Could not map \(2\):/);
    expect(r.stderr).toMatch(
      /BGPAdvertisement metallb-system\/local spec.ipAddressPools\[0\]: IPAddressPool "bgp-with-advertisement"/,
    );
    expect(r.stderr).toMatch(
      /BGPAdvertisement metallb-system\/external spec.peers\[0\]: BGPPeer "ebgp-single-hop0"/,
    );
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    expect(objects.length).toBeGreaterThan(10);
    for (const o of objects) {
      await env.client.postJson(`/apis/portico.io/v1alpha1/namespaces/${env.portico}/${PLURALS[o.kind]}`, o);
    }
  });

  it('exits 2 on bad usage', async () => {
    expect((await runMigrate([])).code).toBe(2);
    expect((await runMigrate(['--from-file', '/nonexistent/file.yaml'])).code).toBe(2);
  });
});
