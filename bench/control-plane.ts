// Shared by the benchmarks that need an apiserver: the cluster
// PORTICO_TEST_KUBECONFIG points at when set, else a private control plane
// started here, with Portico's CRDs installed either way.
import { KubeConfig } from '@kubernetes/client-node';
import { RawKubeClient } from '../lib/raw-client.ts';
import { ControlPlane } from '../test/harness/control-plane.ts';
import { installCrds } from '../test/harness/install-crds.ts';

export interface BenchCluster {
  /** The private control plane, when one was started; the caller stops it. */
  cp: ControlPlane | undefined;
  kubeconfig: string;
  kc: KubeConfig;
  client: RawKubeClient;
}

export async function benchCluster(): Promise<BenchCluster> {
  let cp: ControlPlane | undefined;
  let kubeconfig = process.env.PORTICO_TEST_KUBECONFIG;
  if (!kubeconfig) {
    process.stderr.write('starting a control plane...\n');
    cp = await ControlPlane.start();
    kubeconfig = cp.kubeconfigPath;
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = RawKubeClient.fromKubeConfig(kc);
  await installCrds(kc);
  return { cp, kubeconfig, kc, client };
}
