// Where the binaries and tests get their apiserver connection. The order is
// the one operators expect: an explicit --kubeconfig wins, then KUBECONFIG,
// then the pod's service account, then the developer's ~/.kube/config.
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { shareApiConnections } from './api-connections.ts';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadKubeConfigOptions {
  /** An explicit file, e.g. from a --kubeconfig flag. Must exist. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  /** Replaceable for tests; defaults to fs.existsSync. */
  fileExists?: (path: string) => boolean;
}

export type KubeConfigSource = 'explicit' | 'KUBECONFIG' | 'in-cluster' | 'home';

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  source: KubeConfigSource;
}

export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  return loadKubeConfigWithSource(options).kubeConfig;
}

/** Like loadKubeConfig, and says which source was used (worth logging at startup). */
export function loadKubeConfigWithSource(options: LoadKubeConfigOptions = {}): LoadedKubeConfig {
  const loaded = locate(options);
  shareApiConnections(loaded.kubeConfig);
  return loaded;
}

function locate(options: LoadKubeConfigOptions): LoadedKubeConfig {
  const env = options.env ?? process.env;
  const exists = options.fileExists ?? existsSync;
  const tried: string[] = [];

  if (options.path) {
    if (!exists(options.path)) throw new Error(`kubeconfig ${options.path} does not exist`);
    return { kubeConfig: fromFiles([options.path]), source: 'explicit' };
  }

  const envList = env['KUBECONFIG'];
  if (envList) {
    // KUBECONFIG may list several files; like kubectl, merge the ones that exist.
    const files = envList.split(delimiter).filter((f) => f !== '');
    const present = files.filter((f) => exists(f));
    if (present.length > 0) return { kubeConfig: fromFiles(present), source: 'KUBECONFIG' };
    tried.push(`KUBECONFIG=${envList} (no such file)`);
  } else {
    tried.push('KUBECONFIG (unset)');
  }

  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (host && port && exists(`${SERVICE_ACCOUNT}/token`)) {
    return { kubeConfig: inCluster(host, port, exists), source: 'in-cluster' };
  }
  tried.push('in-cluster service account (KUBERNETES_SERVICE_HOST/PORT or token missing)');

  const home = join(options.homeDir ?? homedir(), '.kube', 'config');
  if (exists(home)) return { kubeConfig: fromFiles([home]), source: 'home' };
  tried.push(`${home} (no such file)`);

  throw new Error(`no Kubernetes configuration found; tried: ${tried.join('; ')}`);
}

function fromFiles(files: string[]): KubeConfig {
  const [first, ...rest] = files;
  const kc = new KubeConfig();
  kc.loadFromFile(first as string);
  for (const file of rest) {
    const other = new KubeConfig();
    other.loadFromFile(file);
    // As with kubectl, the first file to define a name (and current-context) wins.
    for (const c of other.clusters) if (!kc.getCluster(c.name)) kc.addCluster(c);
    for (const u of other.users) if (!kc.getUser(u.name)) kc.addUser(u);
    for (const x of other.contexts) if (!kc.getContextObject(x.name)) kc.addContext(x);
    if (!kc.currentContext && other.currentContext) kc.setCurrentContext(other.currentContext);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(`kubeconfig ${files.join(delimiter)} has no current context with a cluster`);
  }
  return kc;
}

// What KubeConfig.loadFromCluster builds, but from the injected environment
// (loadFromCluster reads process.env itself, which tests cannot vary).
function inCluster(host: string, port: string, exists: (path: string) => boolean): KubeConfig {
  const namespaceFile = `${SERVICE_ACCOUNT}/namespace`;
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, caFile: `${SERVICE_ACCOUNT}/ca.crt`, skipTLSVerify: false }],
    // The tokenFile provider re-reads the projected token, which the kubelet rotates.
    users: [
      {
        name: 'inClusterUser',
        authProvider: { name: 'tokenFile', config: { tokenFile: `${SERVICE_ACCOUNT}/token` } },
      },
    ],
    contexts: [
      {
        name: 'inClusterContext',
        cluster: 'inCluster',
        user: 'inClusterUser',
        ...(exists(namespaceFile) ? { namespace: readFileSync(namespaceFile, 'utf8').trim() } : {}),
      },
    ],
    currentContext: 'inClusterContext',
  });
  return kc;
}
