// The control plane shared by all integration tests of one jest run. global-setup
// starts it (or takes PORTICO_TEST_KUBECONFIG) and hands its kubeconfig path to
// the test workers through the environment.
import { KubeConfig } from '@kubernetes/client-node';

export const SHARED_KUBECONFIG_ENV = 'PORTICO_SHARED_KUBECONFIG';

export function sharedKubeconfigPath(): string {
  const path = process.env[SHARED_KUBECONFIG_ENV] ?? process.env.PORTICO_TEST_KUBECONFIG;
  if (!path) throw new Error(`no shared control plane: run integration tests through jest's global setup`);
  return path;
}

export function sharedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(sharedKubeconfigPath());
  return kc;
}

/** A namespace name unique to this test, so tests sharing one apiserver never see each other's objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
