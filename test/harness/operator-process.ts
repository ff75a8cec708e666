// Runs the real operator binary (operator/main.ts under the pinned Node) as a
// child process, the way a Deployment would, for integration tests and the lab.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, stopProcess, waitFor, type Managed } from './processes.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface OperatorProcess extends Managed {
  pid: number;
  healthPort: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
  ready(): Promise<boolean>;
}

export async function startOperator(opts: {
  kubeconfig: string;
  namespace: string;
  logFile: string;
  args?: string[];
}): Promise<OperatorProcess> {
  const healthPort = await freePort();
  // The webhook port defaults to 9443; several operators on one machine need their own.
  const webhookPort = opts.args?.some((a) => a.startsWith('--webhook-port'))
    ? []
    : [`--webhook-port=${await freePort()}`];
  // Tests share one apiserver: an operator serving the default class would take
  // addresses for other files' LoadBalancer Services. Unless a test chooses,
  // each operator serves a class of its own.
  const lbClass = opts.args?.some((a) => /^--(load-balancer-class|default-load-balancer)\b/.test(a))
    ? []
    : [`--load-balancer-class=test.portico.io/${opts.namespace}`, '--default-load-balancer=false'];
  const managed = startProcess(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      // For profiling an operator under a test or bench, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
      ...(process.env.PORTICO_OPERATOR_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      join(root, 'operator', 'main.ts'),
      `--kubeconfig=${opts.kubeconfig}`,
      `--namespace=${opts.namespace}`,
      `--health-port=${healthPort}`,
      ...webhookPort,
      ...lbClass,
      ...(opts.args ?? []),
    ],
    opts.logFile,
  );
  const op: OperatorProcess = {
    ...managed,
    pid: managed.child.pid!,
    healthPort,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopProcess(managed, signal),
    ready: async () => {
      try {
        return (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok;
      } catch {
        return false;
      }
    },
  };
  return op;
}

export async function waitReady(op: OperatorProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `operator pid ${op.pid} ready (log: ${op.logFile})`,
    async () => {
      if (op.child.exitCode !== null)
        throw new Error(`operator exited with ${op.child.exitCode}; see ${op.logFile}`);
      return op.ready();
    },
    timeoutMs,
  );
}
