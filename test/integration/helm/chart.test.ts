// The Helm chart, checked with a real helm against the real apiserver: lint,
// schema errors that name the field, a server-side dry run of every rendered
// object, a real install, and RBAC both ways with `kubectl auth can-i`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';
import { helmBinary, kubectlBinary, run } from '../../harness/tools.ts';

const CHART = 'helm/portico';

describe('helm chart', () => {
  const kubeconfig = sharedKubeconfigPath();
  const namespace = uniqueName('chart');
  const release = uniqueName('p').slice(0, 20);
  let helm: string;
  let kubectl: string;
  const k = (...args: string[]) => run(kubectl, [`--kubeconfig=${kubeconfig}`, ...args]);
  const canI = (sa: string, ...args: string[]) =>
    k('auth', 'can-i', ...args, `--as=system:serviceaccount:${namespace}:${release}-${sa}`).stdout.trim();

  beforeAll(() => {
    helm = helmBinary();
    kubectl = kubectlBinary();
  });

  afterAll(() => {
    run(helm, ['uninstall', release, '-n', namespace, `--kubeconfig=${kubeconfig}`]);
    k('delete', 'namespace', namespace, '--wait=false');
  });

  it('passes helm lint, with the speaker on and off', () => {
    for (const speaker of ['false', 'true']) {
      const r = run(helm, ['lint', CHART, '--strict', `--set=speaker.enabled=${speaker}`]);
      expect(r.stderr + r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.status).toBe(0);
    }
  });

  it.each([
    ['operator.replicas=two', /operator.*replicas/],
    ['speaker.dataplane=iptables', /speaker.*dataplane/],
    ['operator.leaderElektion.leaseDuration=15s', /leaderElektion/],
  ])('rejects the mistyped value %s, naming the field', (value, field) => {
    const r = run(helm, ['template', 'x', CHART, `--set=${value}`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(field);
  });

  it('renders manifests the apiserver accepts in a server-side dry run', () => {
    const rendered = run(helm, [
      'template',
      release,
      CHART,
      '-n',
      namespace,
      '--include-crds',
      '--set=speaker.enabled=true',
    ]);
    expect(rendered.status).toBe(0);
    expect(k('create', 'namespace', namespace).status).toBe(0);
    const r = run(
      kubectl,
      [`--kubeconfig=${kubeconfig}`, 'apply', '--server-side', '--dry-run=server', '-n', namespace, '-f', '-'],
      rendered.stdout,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/deployment\.apps\/.*-operator serverside-applied \(server dry run\)/);
    expect(r.stdout).toMatch(/daemonset\.apps\/.*-speaker serverside-applied \(server dry run\)/);
    expect(r.stdout).toMatch(/mutatingwebhookconfiguration\.admissionregistration\.k8s\.io\/.* serverside-applied/);
  });

  it('installs into the cluster with helm install', () => {
    const r = run(helm, [
      'install',
      release,
      CHART,
      '-n',
      namespace,
      `--kubeconfig=${kubeconfig}`,
      '--set=speaker.enabled=true',
      // No operator runs here, and the apiserver would try to reach the webhook
      // Service's ClusterIP for every Service other tests create; the dry run
      // above already covers the mutating configuration.
      '--set=operator.webhook.mutateServices=false',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(k('get', 'deployment', `${release}-operator`, '-n', namespace).status).toBe(0);
    expect(k('get', 'daemonset', `${release}-speaker`, '-n', namespace).status).toBe(0);
    expect(k('get', 'crd', 'ipaddresspools.portico.io').status).toBe(0);
  });

  it('grants the operator what allocation needs', () => {
    const ns = `--namespace=${namespace}`;
    expect(canI('operator', 'watch', 'services', '--all-namespaces')).toBe('yes');
    expect(canI('operator', 'update', 'services', '--subresource=status', '-n', 'default')).toBe('yes');
    expect(canI('operator', 'create', 'endpointslices.discovery.k8s.io', '-n', 'default')).toBe('yes');
    expect(canI('operator', 'create', 'events', '-n', 'default')).toBe('yes');
    expect(canI('operator', 'update', 'ipaddresspools.portico.io', '--subresource=status', ns)).toBe('yes');
    expect(canI('operator', 'update', 'leases.coordination.k8s.io/portico-operator', ns)).toBe('yes');
    expect(canI('operator', 'get', `secrets/${release}-webhook-cert`, ns)).toBe('yes');
  });

  it('denies the operator what it must not have', () => {
    expect(canI('operator', 'get', 'secrets', '-n', 'default')).toBe('no');
    expect(canI('operator', 'list', 'secrets', '--all-namespaces')).toBe('no');
    expect(canI('operator', 'get', 'secrets/other', `--namespace=${namespace}`)).toBe('no');
    expect(canI('operator', 'delete', 'nodes')).toBe('no');
    expect(canI('operator', 'create', 'pods', '-n', 'default')).toBe('no');
    expect(canI('operator', 'update', 'leases.coordination.k8s.io/kube-controller-manager', '-n', 'kube-system')).toBe(
      'no',
    );
    expect(canI('operator', 'patch', 'validatingwebhookconfigurations/someone-elses')).toBe('no');
    expect(canI('operator', '*', '*')).toBe('no');
  });

  it('lets the speaker read BGP password Secrets only in its own namespace', () => {
    expect(canI('speaker', 'get', 'secrets', `--namespace=${namespace}`)).toBe('yes');
    expect(canI('speaker', 'get', 'secrets', '-n', 'default')).toBe('no');
    expect(canI('speaker', 'list', 'secrets', '--all-namespaces')).toBe('no');
    expect(canI('speaker', 'watch', 'endpointslices.discovery.k8s.io', '--all-namespaces')).toBe('yes');
    expect(canI('speaker', 'update', 'services', '-n', 'default')).toBe('no');
    expect(canI('speaker', 'update', 'services', '--subresource=status', '-n', 'default')).toBe('no');
    expect(canI('speaker', '*', '*')).toBe('no');
  });
});
