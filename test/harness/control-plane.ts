// A real control plane for tests: etcd, kube-apiserver and (optionally)
// kube-controller-manager, each on a random loopback port, with certificates
// and a kubeconfig generated per instance. Nothing is mocked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { makePki, type Pki } from './pki.ts';
import { freePort, startProcess, stopProcess, waitFor, type Managed } from './processes.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface ControlPlaneOptions {
  /** Start kube-controller-manager too (EndpointSlices, namespace cleanup, GC). Default true. */
  controllerManager?: boolean;
  /** Comma-separated Service CIDRs; dual-stack by default. */
  serviceCIDRs?: string;
  /** Keep the data directory after stop (for debugging). */
  keep?: boolean;
}

/** Where the Kubernetes binaries are: PORTICO_K8S_BIN_DIR, or the cached build (built on first use). */
export function resolveBinDir(): string {
  const fromEnv = process.env.PORTICO_K8S_BIN_DIR;
  if (fromEnv) {
    for (const b of ['etcd', 'kube-apiserver']) {
      if (!existsSync(join(fromEnv, b))) throw new Error(`PORTICO_K8S_BIN_DIR=${fromEnv} has no ${b} binary`);
    }
    return fromEnv;
  }
  const out = execFileSync('bash', [join(here, 'build-control-plane.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}

export class ControlPlane {
  readonly dir: string;
  readonly binDir: string;
  readonly kubeconfigPath: string;
  readonly apiserverUrl: string;
  readonly etcdUrl: string;
  readonly serviceCIDRs: string;
  private readonly pki: Pki;
  private readonly apiserverPort: number;
  private readonly etcdPorts: [number, number];
  private readonly options: ControlPlaneOptions;
  private etcd?: Managed;
  private apiserver?: Managed;
  private kcm?: Managed;

  private constructor(binDir: string, options: ControlPlaneOptions, ports: number[]) {
    this.binDir = binDir;
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'portico-cp-'));
    this.pki = makePki(this.dir);
    const [api, etcdClient, etcdPeer] = ports as [number, number, number];
    this.apiserverPort = api;
    this.etcdPorts = [etcdClient, etcdPeer];
    this.apiserverUrl = `https://127.0.0.1:${api}`;
    this.etcdUrl = `http://127.0.0.1:${etcdClient}`;
    this.serviceCIDRs = options.serviceCIDRs ?? '10.96.0.0/16,fd00:10:96::/112';
    this.kubeconfigPath = join(this.dir, 'kubeconfig');
    writeFileSync(this.kubeconfigPath, this.kubeconfigYaml());
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const binDir = resolveBinDir();
    const ports = [await freePort(), await freePort(), await freePort()];
    const cp = new ControlPlane(binDir, options, ports);
    try {
      await cp.startEtcd();
      await cp.startApiserver();
      if (options.controllerManager !== false) await cp.startControllerManager();
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cp;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  private kubeconfigYaml(): string {
    const b64 = (f: string) => readFileSync(f).toString('base64');
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: portico-test',
      '  cluster:',
      `    server: ${this.apiserverUrl}`,
      `    certificate-authority-data: ${b64(this.pki.caCert)}`,
      'users:',
      '- name: admin',
      '  user:',
      `    client-certificate-data: ${b64(this.pki.adminCert)}`,
      `    client-key-data: ${b64(this.pki.adminKey)}`,
      'contexts:',
      '- name: portico-test',
      '  context: {cluster: portico-test, user: admin}',
      'current-context: portico-test',
      '',
    ].join('\n');
  }

  private async startEtcd(): Promise<void> {
    const peer = this.etcdPorts[1];
    const peerUrl = `http://127.0.0.1:${peer}`;
    this.etcd = startProcess(
      join(this.binDir, 'etcd'),
      [
        '--name=default',
        `--data-dir=${join(this.dir, 'etcd')}`,
        `--listen-client-urls=${this.etcdUrl}`,
        `--advertise-client-urls=${this.etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        '--log-level=warn',
        // Test data is disposable; skipping fsync makes the suite several times faster.
        '--unsafe-no-fsync',
      ],
      join(this.dir, 'etcd.log'),
    );
    await waitFor('etcd health', async () => (await fetch(`${this.etcdUrl}/health`)).ok, 30_000);
  }

  async startApiserver(): Promise<void> {
    this.apiserver = startProcess(
      join(this.binDir, 'kube-apiserver'),
      [
        `--etcd-servers=${this.etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${this.apiserverPort}`,
        `--cert-dir=${join(this.dir, 'apiserver-certs')}`,
        `--tls-cert-file=${this.pki.serverCert}`,
        `--tls-private-key-file=${this.pki.serverKey}`,
        `--client-ca-file=${this.pki.caCert}`,
        `--service-account-key-file=${this.pki.saPub}`,
        `--service-account-signing-key-file=${this.pki.saKey}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        '--authorization-mode=RBAC',
        `--service-cluster-ip-range=${this.serviceCIDRs}`,
        '--service-node-port-range=30000-32767',
        '--allow-privileged=true',
        // A loopback advertise address may not be written into Endpoints; tests need no
        // in-cluster route to the apiserver, so skip that reconciler.
        '--endpoint-reconciler-type=none',
        '--profiling=false',
        '--v=1',
      ],
      join(this.dir, 'kube-apiserver.log'),
    );
    await waitFor('kube-apiserver /readyz', () => this.apiserverReady(), 90_000, 250);
  }

  async stopApiserver(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopProcess(this.apiserver, signal);
    this.apiserver = undefined;
  }

  /** Stops and starts kube-apiserver on the same port; etcd keeps its data. */
  async restartApiserver(): Promise<void> {
    await this.stopApiserver();
    await this.startApiserver();
  }

  private async startControllerManager(): Promise<void> {
    const port = await freePort();
    this.kcm = startProcess(
      join(this.binDir, 'kube-controller-manager'),
      [
        `--kubeconfig=${this.kubeconfigPath}`,
        `--authentication-kubeconfig=${this.kubeconfigPath}`,
        `--authorization-kubeconfig=${this.kubeconfigPath}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${port}`,
        '--leader-elect=false',
        `--service-account-private-key-file=${this.pki.saKey}`,
        `--root-ca-file=${this.pki.caCert}`,
        `--cluster-signing-cert-file=${this.pki.caCert}`,
        `--cluster-signing-key-file=${this.pki.caKey}`,
        '--use-service-account-credentials=false',
        '--v=1',
      ],
      join(this.dir, 'kube-controller-manager.log'),
    );
    await waitFor(
      'kube-controller-manager /healthz',
      async () => (await this.httpsGet(`https://127.0.0.1:${port}/healthz`)) === 200,
      60_000,
    );
  }

  private async apiserverReady(): Promise<boolean> {
    if (!this.apiserver || this.apiserver.child.exitCode !== null) {
      throw new Error(`kube-apiserver exited; see ${this.apiserver?.logFile}`);
    }
    return (await this.httpsGet(`${this.apiserverUrl}/readyz`)) === 200;
  }

  private httpsGet(url: string): Promise<number> {
    return new Promise((resolve) => {
      const req = request(
        url,
        {
          ca: readFileSync(this.pki.caCert),
          cert: readFileSync(this.pki.adminCert),
          key: readFileSync(this.pki.adminKey),
          // kube-controller-manager serves a self-signed cert of its own.
          rejectUnauthorized: url.startsWith(this.apiserverUrl),
          timeout: 2000,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  /** Compacts etcd at its current revision, so that any older resourceVersion answers 410 Gone. */
  async compactEtcd(): Promise<number> {
    const range = await fetch(`${this.etcdUrl}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('/').toString('base64'), limit: 1 }),
    });
    const revision = Number(((await range.json()) as { header: { revision: string } }).header.revision);
    const res = await fetch(`${this.etcdUrl}/v3/kv/compaction`, {
      method: 'POST',
      body: JSON.stringify({ revision, physical: true }),
    });
    if (!res.ok) throw new Error(`etcd compaction failed: ${res.status} ${await res.text()}`);
    return revision;
  }

  async stop(): Promise<void> {
    await stopProcess(this.kcm);
    await stopProcess(this.apiserver);
    await stopProcess(this.etcd);
    if (!this.options.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
