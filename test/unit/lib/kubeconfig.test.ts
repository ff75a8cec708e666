import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfigWithSource } from '../../../lib/kubeconfig.ts';

function kubeconfigYaml(server: string, name: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${name}`,
    `clusters: [{ name: ${name}, cluster: { server: '${server}' } }]`,
    `users: [{ name: ${name}, user: { token: t } }]`,
    `contexts: [{ name: ${name}, context: { cluster: ${name}, user: ${name} } }]`,
    '',
  ].join('\n');
}

describe('loadKubeConfig', () => {
  let dir: string;
  let fileA: string;
  let fileB: string;
  let home: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-kc-'));
    fileA = join(dir, 'a.yaml');
    fileB = join(dir, 'b.yaml');
    writeFileSync(fileA, kubeconfigYaml('https://a.example:6443', 'a'));
    writeFileSync(fileB, kubeconfigYaml('https://b.example:6443', 'b'));
    home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), kubeconfigYaml('https://home.example:6443', 'home'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers an explicit path over everything', () => {
    const { kubeConfig, source } = loadKubeConfigWithSource({ path: fileB, env: { KUBECONFIG: fileA } });
    expect(source).toBe('explicit');
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://b.example:6443');
  });

  it('fails clearly for an explicit path that does not exist', () => {
    expect(() => loadKubeConfigWithSource({ path: join(dir, 'nope') })).toThrow(/does not exist/);
  });

  it('uses KUBECONFIG, merging several files with the first current-context winning', () => {
    const { kubeConfig, source } = loadKubeConfigWithSource({
      env: { KUBECONFIG: `${join(dir, 'missing')}:${fileA}:${fileB}` },
      homeDir: home,
    });
    expect(source).toBe('KUBECONFIG');
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://a.example:6443');
    expect(kubeConfig.getContexts().map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('uses the service account when running in a pod', () => {
    const { kubeConfig, source } = loadKubeConfigWithSource({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      homeDir: home,
      fileExists: (p) => p.endsWith('/serviceaccount/token'),
    });
    expect(source).toBe('in-cluster');
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://[fd00::1]:443');
  });

  it('falls back to ~/.kube/config', () => {
    const { kubeConfig, source } = loadKubeConfigWithSource({
      env: { KUBECONFIG: join(dir, 'missing') },
      homeDir: home,
      fileExists: (p) => !p.includes('serviceaccount') && existsSync(p),
    });
    expect(source).toBe('home');
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://home.example:6443');
  });

  it('says what it tried when nothing is there', () => {
    expect(() => loadKubeConfigWithSource({ env: {}, homeDir: home, fileExists: () => false })).toThrow(
      /no Kubernetes configuration found.*KUBECONFIG.*in-cluster.*\.kube\/config/,
    );
  });
});
