// `npm run lab`: brings Portico up on this machine. Today that is a real
// control plane (etcd, kube-apiserver, kube-controller-manager) on loopback,
// Portico's CRDs, a namespace and the operator; network-namespace nodes,
// speakers and the seed scenarios arrive with the data-path and announcement
// work. `npm run lab -- down` stops a lab started elsewhere; Ctrl-C stops this one.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { ControlPlane } from '../test/harness/control-plane.ts';
import { installCrds } from '../test/harness/install-crds.ts';
import { startOperator, waitReady, type OperatorProcess } from '../test/harness/operator-process.ts';
import { freePort, waitFor } from '../test/harness/processes.ts';

const STATE_DIR = process.env.PORTICO_LAB_DIR ?? '/tmp/portico-lab';
const PID_FILE = `${STATE_DIR}/lab.pid`;
const NAMESPACE = 'portico-system';

async function down(): Promise<void> {
  if (!existsSync(PID_FILE)) {
    console.log('no lab is running');
    return;
  }
  const pid = Number(readFileSync(PID_FILE, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    rmSync(PID_FILE, { force: true });
    console.log(`lab pid ${pid} was already gone`);
    return;
  }
  await waitFor(`lab pid ${pid} to exit`, async () => !existsSync(PID_FILE), 60_000);
  console.log('lab stopped');
}

async function up(): Promise<void> {
  if (existsSync(PID_FILE)) {
    throw new Error(
      `a lab is already running (pid ${readFileSync(PID_FILE, 'utf8')}); run: npm run lab -- down`,
    );
  }
  mkdirSync(STATE_DIR, { recursive: true });
  const started = Date.now();
  console.log(
    'lab: starting etcd, kube-apiserver and kube-controller-manager (first run builds them: ~15 min)',
  );
  const cp = await ControlPlane.start();
  writeFileSync(PID_FILE, String(process.pid));
  // Filled in once started; teardown may run before that.
  const running: { operator?: OperatorProcess } = {};
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nlab: tearing down');
    await running.operator?.stop();
    await cp.stop();
    rmSync(PID_FILE, { force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const kc = cp.kubeConfig();
  const crds = await installCrds(kc);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const kubeconfig = `${STATE_DIR}/kubeconfig`;
  writeFileSync(kubeconfig, readFileSync(cp.kubeconfigPath));
  // Out of cluster, the apiserver reaches the admission webhook on loopback; the
  // operator then creates its webhook configuration itself (docs/decisions/0005).
  const webhookPort = await freePort();
  const operator = await startOperator({
    kubeconfig,
    namespace: NAMESPACE,
    logFile: `${STATE_DIR}/operator.log`,
    args: [`--webhook-port=${webhookPort}`, `--webhook-url=https://127.0.0.1:${webhookPort}`],
  });
  running.operator = operator;
  await waitReady(operator);

  console.log(`
lab: up in ${((Date.now() - started) / 1000).toFixed(1)} s
  CRDs installed: ${crds.join(', ')}
  operator:       pid ${operator.pid}, health http://127.0.0.1:${operator.healthPort}/readyz, log ${STATE_DIR}/operator.log
  kubeconfig:     ${kubeconfig}

Try:
  export KUBECONFIG=${kubeconfig}
  ${cp.binDir}/kubectl -n ${NAMESPACE} apply -f - <<'YAML'
  apiVersion: portico.io/v1alpha1
  kind: IPAddressPool
  metadata: {name: lab-pool}
  spec: {addresses: ["192.0.2.0/28", "2001:db8::/124"]}
  YAML
  ${cp.binDir}/kubectl -n ${NAMESPACE} get ipaddresspools

Ctrl-C (or npm run lab -- down) removes everything the lab started.`);
}

const command = process.argv[2] ?? 'up';
if (command === 'down') await down();
else if (command === 'up') await up();
else {
  console.error(`usage: npm run lab [-- up|down]`);
  process.exit(2);
}
