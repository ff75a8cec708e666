// `npm run lab`: the whole of Portico on this machine, as root. A real control
// plane on loopback; three node network namespaces on one LAN, each with a
// pod serving "Hello from <pod>" and a real speaker (nftables data path, L2
// and BGP); a BIRD router and two clients; the operator; then the seed
// scenarios from lab/scenarios/, checked as a user would check them.
//
//   npm run lab                 bring it up, print the checks, stay up
//   npm run lab -- --check      bring it up, print the checks (and JSON), tear down
//   npm run lab -- down         stop a lab started in another terminal
//   npm run lab -- --dataplane ipvs
//                               the same with the IPVS data path: each node is
//                               a User-Mode Linux guest (uml-nodes.ts)
//
// Ctrl-C (or `down`) ends every process and removes every namespace it made.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { RawKubeClient } from '../lib/raw-client.ts';
import { ApiserverBridge } from '../test/harness/apiserver-bridge.ts';
import { ControlPlane } from '../test/harness/control-plane.ts';
import { installCrds } from '../test/harness/install-crds.ts';
import { startOperator, waitReady } from '../test/harness/operator-process.ts';
import type { OperatorProcess } from '../test/harness/operator-process.ts';
import { freePort, waitFor } from '../test/harness/processes.ts';
import { Dnsmasq } from '../test/harness/dnsmasq.ts';
import { Lab, helperScript } from '../test/e2e/netns/netns.ts';
import { runChecks } from './checks.ts';
import type { CheckResult } from './checks.ts';
import { createNamespace, startNodes, startPods } from './cluster.ts';
import { buildNetwork } from './network.ts';
import { NAMESPACE, NODES, POD_PORT } from './plan.ts';
import { startRouter } from './router.ts';
import { startSpeakers } from './speakers.ts';
import { runOnUmlNode, startUmlNodes, umlChannel } from './uml-nodes.ts';
import type { UmlNodes } from './uml-nodes.ts';
import { umlUnavailable } from '../test/harness/uml.ts';

const STATE_DIR = process.env.PORTICO_LAB_DIR ?? '/tmp/portico-lab';
const PID_FILE = `${STATE_DIR}/lab.pid`;
const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

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
  await waitFor(`lab pid ${pid} to exit`, async () => !existsSync(PID_FILE), 120_000);
  console.log('lab stopped');
}

function printChecks(results: CheckResult[]): void {
  console.log('\nlab: seed scenarios');
  for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.scenario}\n        ${r.detail}`);
}

type Dataplane = 'nftables' | 'ipvs';

async function up(check: boolean, dataplane: Dataplane): Promise<number> {
  if (existsSync(PID_FILE)) {
    throw new Error(
      `a lab is already running (pid ${readFileSync(PID_FILE, 'utf8')}); run: npm run lab -- down`,
    );
  }
  if (process.getuid?.() !== 0) throw new Error('the lab makes network namespaces: run it as root');
  const uml = dataplane === 'ipvs';
  const noUml = uml ? umlUnavailable() : null;
  if (noUml)
    throw new Error(`the IPVS lab runs its nodes in User-Mode Linux, which cannot run here: ${noUml}`);
  mkdirSync(STATE_DIR, { recursive: true });
  const started = Date.now();
  console.log(
    'lab: starting etcd, kube-apiserver and kube-controller-manager (the first run builds them: ~15 min)',
  );
  const cp = await ControlPlane.start();
  writeFileSync(PID_FILE, String(process.pid));
  const lab = new Lab('lab');
  writeFileSync(join(STATE_DIR, 'netns-prefix'), lab.prefix);
  const running: {
    operator?: OperatorProcess;
    dns?: Dnsmasq;
    bridge?: ApiserverBridge;
    stopNodes?: () => void;
    umlNodes?: UmlNodes;
  } = {};
  let stopping: Promise<void> | undefined;
  const teardown = () =>
    (stopping ??= (async () => {
      const t0 = Date.now();
      running.stopNodes?.();
      await running.umlNodes?.stop();
      await running.bridge?.close();
      await lab.cleanup();
      await running.operator?.stop();
      await running.dns?.stop();
      await cp.stop();
      rmSync(PID_FILE, { force: true });
      console.log(`lab: torn down in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    })());
  const onSignal = () => void teardown().then(() => process.exit(0));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const kc = cp.kubeConfig();
    const client = RawKubeClient.fromKubeConfig(kc);
    await installCrds(kc);
    await createNamespace(client, NAMESPACE);
    const kubeconfig = `${STATE_DIR}/kubeconfig`;
    writeFileSync(kubeconfig, readFileSync(cp.kubeconfigPath));

    console.log('lab: network namespaces (LAN, router, clients, three nodes and their pods)');
    await buildNetwork(lab, uml);
    running.stopNodes = await startNodes(client);
    await startPods(client);
    // UML nodes start their pod's server themselves (uml-node.ts).
    for (const node of uml ? [] : NODES) {
      await lab.start(
        node.pod.name,
        [process.execPath, helperScript('hello-server.ts'), node.pod.name, String(POD_PORT)],
        /listening/,
      );
    }

    console.log('lab: DNS for www.lab.test, the operator, the router and the speakers');
    const hosts = join(STATE_DIR, 'hosts');
    writeFileSync(hosts, `${NODES[0]!.pod.ip} www.lab.test\n`);
    running.dns = await Dnsmasq.start(hosts, join(STATE_DIR, 'dnsmasq.log'), 'lab.test');
    // Out of cluster, the apiserver reaches the admission webhook on loopback; the
    // operator then creates its webhook configuration itself (docs/decisions/0005).
    const webhookPort = await freePort();
    running.operator = await startOperator({
      kubeconfig,
      namespace: NAMESPACE,
      logFile: `${STATE_DIR}/operator.log`,
      args: [
        `--webhook-port=${webhookPort}`,
        `--webhook-url=https://127.0.0.1:${webhookPort}`,
        `--dns-server=${running.dns.server}`,
        '--default-load-balancer=true',
      ],
    });
    await waitReady(running.operator);
    running.bridge = new ApiserverBridge(cp.kubeConfig().getCurrentCluster()!.server, lab.prefix);
    await running.bridge.listen();
    const router = await startRouter(lab, STATE_DIR);
    if (uml) {
      console.log('lab: booting three User-Mode Linux nodes (IPVS data path)');
      running.umlNodes = await startUmlNodes({ lab, bridge: running.bridge, kubeconfig, dir: STATE_DIR });
    } else {
      await startSpeakers({ lab, bridge: running.bridge, kubeconfig, dir: STATE_DIR });
    }
    const umlNodes = running.umlNodes;
    const isNode = (where: string) => NODES.some((n) => n.name === where);
    const exec = (where: string, argv: readonly string[]) =>
      umlNodes && isNode(where) ? umlNodes.exec(where, argv) : lab.exec(where, argv);

    console.log('lab: applying lab/scenarios/');
    await run(join(cp.binDir, 'kubectl'), [
      '--kubeconfig',
      kubeconfig,
      'apply',
      '-f',
      join(root, 'lab', 'scenarios'),
    ]);
    const upSeconds = (Date.now() - started) / 1000;
    const results = await runChecks({
      lab,
      exec,
      client,
      router,
      rules: (node) =>
        uml ? exec(node, ['ipvsadm', '-Ln']) : exec(node, ['nft', 'list', 'table', 'inet', 'portico']),
    });
    printChecks(results);
    const failed = results.filter((r) => !r.ok).length;
    console.log(
      `\nlab (${dataplane}): up in ${upSeconds.toFixed(1)} s; ${results.length - failed} of ${results.length} checks held`,
    );
    if (check) {
      console.log(`LAB-RESULTS ${JSON.stringify({ upSeconds, results })}`);
      await teardown();
      return failed === 0 ? 0 : 1;
    }
    console.log(`
  kubeconfig:  ${kubeconfig}     (export KUBECONFIG=${kubeconfig}; kubectl: ${cp.binDir}/kubectl)
  operator:    log ${STATE_DIR}/operator.log
  speakers:    logs ${STATE_DIR}/speaker-node-{1,2,3}.log
  namespaces:  ${lab.prefix}-*   (e.g. ip netns exec ${lab.ns('client')} curl http://<LoadBalancer IP>/)${
    uml
      ? `
  UML nodes:   consoles ${STATE_DIR}/uml-node-{1,2,3}.console.log
               run a command on one: npm run -s lab -- exec node-1 ipvsadm -Ln`
      : ''
  }

Ctrl-C (or npm run lab -- down) removes everything the lab started.`);
    return await new Promise<number>(() => undefined);
  } catch (err) {
    console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
    await teardown();
    return 1;
  }
}

/** `npm run lab -- exec node-1 ipvsadm -Ln`: a command on a node, namespace or UML guest. */
async function execOnNode(argv: string[]): Promise<number> {
  const [node, ...command] = argv;
  if (!node || command.length === 0) {
    console.error(USAGE);
    return 2;
  }
  const channel = umlChannel(STATE_DIR, node);
  if (existsSync(join(channel, 'ready'))) {
    const r = await runOnUmlNode(channel, command);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  }
  const prefixFile = join(STATE_DIR, 'netns-prefix');
  if (!existsSync(prefixFile)) {
    console.error('no lab is running');
    return 1;
  }
  const netns = `${readFileSync(prefixFile, 'utf8').trim()}-${node}`;
  const r = await run('ip', ['netns', 'exec', netns, ...command]).then(
    (o) => ({ code: 0, ...o }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.code;
}

const USAGE =
  'usage: npm run lab [-- up [--check] [--dataplane nftables|ipvs] | down | exec NODE COMMAND...]';
const { values, positionals } = parseArgs({
  // `exec` passes everything after the node name through, flags included.
  args: process.argv[2] === 'exec' ? [] : process.argv.slice(2),
  options: {
    check: { type: 'boolean', default: false },
    dataplane: { type: 'string', default: 'nftables' },
  },
  allowPositionals: true,
});
const command = positionals[0] ?? 'up';
const dataplane = values.dataplane;
if (dataplane !== 'nftables' && dataplane !== 'ipvs') {
  console.error(`--dataplane: ${JSON.stringify(dataplane)} must be nftables or ipvs\n${USAGE}`);
  process.exit(2);
}
if (process.argv[2] === 'exec') process.exit(await execOnNode(process.argv.slice(3)));
else if (command === 'down') await down();
else if (command === 'up') process.exit(await up(values.check, dataplane));
else {
  console.error(USAGE);
  process.exit(2);
}
