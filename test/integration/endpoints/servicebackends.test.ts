// ServiceBackends against the real apiserver and kube-controller-manager, with
// host names resolved by a real dnsmasq on a loopback port. No health checks
// here (those need reachable backends: see health.test.ts), so no traffic
// goes anywhere but to dnsmasq.
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

describe('ServiceBackends', () => {
  const kc = sharedKubeConfig();
  const kube = new Kube(kc, uniqueName('svcbe'));
  const dir = mkdtempSync(join(tmpdir(), 'portico-svcbe-'));
  let dns: Dnsmasq;
  let operator: OperatorProcess;

  const selectorless = (name: string, ports = [{ name: 'http', port: 80, protocol: 'TCP' }]) =>
    kube.service(name, { type: 'ClusterIP', ports });

  beforeAll(async () => {
    await installCrds(kc);
    await kube.createNamespace();
    writeFileSync(join(dir, 'hosts'), '192.0.2.21 api.backends.test\n192.0.2.22 api.backends.test\n');
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

  it('publishes the addresses of a host name and follows DNS changes', async () => {
    await selectorless('api');
    await kube.backends('api', {
      serviceName: 'api',
      backends: [{ hostname: 'api.backends.test' }],
      ports: [{ name: 'http', port: 8080 }],
    });
    await kube.waitPublished('api', { '192.0.2.21': true, '192.0.2.22': true });
    const [slice] = await kube.portico('api');
    expect(slice?.addressType).toBe('IPv4');
    expect(slice?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    // The slices and the status are two writes; the status may land a moment later.
    const resolved = [
      { hostname: 'api.backends.test', addresses: ['192.0.2.21', '192.0.2.22'], healthy: true },
    ];
    await waitFor('status to show the resolved addresses', async () => {
      const backends = (await kube.getBackends('api')).status?.backends ?? [];
      return backends[0]?.healthy === true && backends[0].addresses?.length === 2;
    });
    const status = (await kube.getBackends('api')).status;
    expect(status?.backends).toEqual(resolved);
    expect((await kube.waitCondition('api', 'Ready', 'True')).message).toBe('2 of 2 address(es) ready');

    dns.writeHosts([
      ['192.0.2.22', 'api.backends.test'],
      ['192.0.2.23', 'api.backends.test'],
      ['2001:db8::23', 'api.backends.test'],
    ]);
    dns.reload();
    await kube.waitPublished('api', { '192.0.2.22': true, '192.0.2.23': true, '2001:db8::23': true });
    const families = (await kube.portico('api')).map((s) => s.addressType).sort();
    expect(families).toEqual(['IPv4', 'IPv6']);
  });

  it('keeps the last good addresses and says resolution is failing while DNS is down', async () => {
    await dns.stop();
    const failing = await kube.waitCondition('api', 'ResolutionFailing', 'True');
    expect(failing.message).toMatch(
      /^spec\.backends\[0\]\.hostname "api\.backends\.test": A lookup failed: ECONNREFUSED/,
    );
    expect(failing.message).toMatch(/keeping 3 last good address\(es\)/);
    expect(Object.fromEntries(await kube.published('api'))).toEqual({
      '192.0.2.22': true,
      '192.0.2.23': true,
      '2001:db8::23': true,
    });
    expect((await kube.getBackends('api')).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe(
      'True',
    );

    const metrics = await (await fetch(`http://127.0.0.1:${operator.healthPort}/metrics`)).text();
    const series = (name: string, labels: string) =>
      Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const sel = `namespace="${kube.ns}",name="api"`;
    expect(series('portico_servicebackends_resolution_failures_total', sel)).toBeGreaterThan(0);
    expect(series('portico_servicebackends_addresses', `${sel},state="healthy"`)).toBe(3);
    expect(series('portico_servicebackends_addresses', `${sel},state="unhealthy"`)).toBe(0);

    await dns.restart();
    await kube.waitCondition('api', 'ResolutionFailing', 'False');
  });

  it('splits 250 backends across slices of at most 100, and the slices go with the object', async () => {
    await selectorless('many');
    const ips = Array.from({ length: 250 }, (_, i) => `198.18.${Math.floor(i / 200)}.${(i % 200) + 1}`);
    await kube.backends('many', {
      serviceName: 'many',
      backends: ips.map((ip) => ({ ip })),
      ports: [{ name: 'http', port: 80 }],
    });
    await waitFor('250 endpoints published', async () => (await kube.published('many')).size === 250);
    const slices = await kube.portico('many');
    expect(slices.map((s) => s.endpoints?.length ?? 0).sort((a, b) => b - a)).toEqual([100, 100, 50]);
    expect(slices.every((s) => s.addressType === 'IPv4')).toBe(true);
    expect([...(await kube.published('many')).values()].every((ready) => ready)).toBe(true);
    expect((await kube.getBackends('many')).status).toMatchObject({ healthy: 250, total: 250 });

    // An unchanged object is not rewritten.
    const versions = slices.map((s) => s.metadata.resourceVersion).sort();
    await kube.patchBackends('many', { metadata: { labels: { touched: 'yes' } } });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await kube.portico('many')).map((s) => s.metadata.resourceVersion).sort()).toEqual(versions);

    await kube.deleteBackends('many');
    await waitFor('slices garbage-collected', async () => (await kube.portico('many')).length === 0);
  });

  describe('bad input', () => {
    const base = { backends: [{ ip: '192.0.2.50' }], ports: [{ name: 'http', port: 80 }] };

    it('flags an unknown Service on status, naming spec.serviceName', async () => {
      await kube.backends('ghost', { ...base, serviceName: 'ghost' });
      const invalid = await kube.waitCondition('ghost', 'Invalid', 'True');
      expect(invalid.reason).toBe('ServiceNotFound');
      expect(invalid.message).toMatch(/^spec\.serviceName: Service "ghost" not found/);
      expect(
        (await kube.getBackends('ghost')).status?.conditions?.find((c) => c.type === 'Ready')?.status,
      ).toBe('False');

      // Creating the Service heals it.
      await selectorless('ghost');
      await kube.waitCondition('ghost', 'Ready', 'True');
      await kube.waitPublished('ghost', { '192.0.2.50': true });
    });

    it('flags a Service that has a selector, and writes nothing beside its own slices', async () => {
      await kube.service('picked', { selector: { app: 'picked' }, ports: [{ name: 'http', port: 80 }] });
      await kube.backends('picked', { ...base, serviceName: 'picked' });
      const invalid = await kube.waitCondition('picked', 'Invalid', 'True');
      expect(invalid.reason).toBe('ServiceHasSelector');
      expect(invalid.message).toMatch(/^spec\.serviceName: Service "picked" has a selector/);
      expect(await kube.portico('picked')).toEqual([]);
    });

    it('flags a port name the Service does not have, naming spec.ports[0].name', async () => {
      await selectorless('ports');
      await kube.backends('ports', { ...base, serviceName: 'ports', ports: [{ name: 'grpc', port: 9090 }] });
      const invalid = await kube.waitCondition('ports', 'Invalid', 'True');
      expect(invalid.reason).toBe('UnknownPort');
      expect(invalid.message).toBe(
        'spec.ports[0].name: Service "ports" has no port named "grpc" (its ports: "http")',
      );
    });

    it('withdraws the slices when an object becomes invalid', async () => {
      await kube.waitPublished('ghost', { '192.0.2.50': true });
      await kube.deleteService('ghost');
      await kube.waitCondition('ghost', 'Invalid', 'True');
      await waitFor('slices withdrawn', async () => (await kube.portico('ghost')).length === 0);
    });

    it('rejects a negative interval at admission, naming the field', async () => {
      const attempt = kube.backends('negative', {
        ...base,
        serviceName: 'api',
        healthCheck: { interval: '-5s' },
      });
      await expect(attempt).rejects.toMatchObject({ code: 422 });
      await expect(attempt).rejects.toThrow(/spec\.healthCheck\.interval/);
    });

    it('rejects an interval under 1s and a loopback backend at admission', async () => {
      const short = kube.backends('short', {
        ...base,
        serviceName: 'api',
        healthCheck: { interval: '500ms', timeout: '100ms' },
      });
      await expect(short).rejects.toThrow(/spec\.healthCheck\.interval.*interval must be at least 1s/);
      const loop = kube.backends('loop', { ...base, serviceName: 'api', backends: [{ ip: '127.0.0.1' }] });
      await expect(loop).rejects.toThrow(/spec\.backends\[0\]\.ip.*loopback/);
    });
  });
});
