// Command-line flags of the operator, parsed into a plain, validated object.
// Pure, so bad flags are reported with the flag named before anything starts.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../crds/index.ts';

export interface OperatorOptions {
  kubeconfig?: string;
  /** The namespace Portico runs in and keeps its pools in. */
  namespace: string;
  healthPort: number;
  leaderElect: boolean;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const USAGE = `usage: portico-operator [flags]
  --kubeconfig PATH        kubeconfig to use (default: KUBECONFIG, in-cluster, ~/.kube/config)
  --namespace NS           Portico's namespace (default: $POD_NAMESPACE or portico-system)
  --health-port N          port for /metrics, /healthz and /readyz (default 7472)
  --leader-elect BOOL      run leader election (default true)
  --lease-name NAME        the coordination.k8s.io Lease (default portico-operator)
  --lease-duration D       how long a lease is valid (default 15s)
  --renew-deadline D       leader steps down if not renewed within this (default 10s)
  --retry-period D         time between acquire/renew attempts (default 2s)
  --identity ID            this replica's name in the Lease (default $POD_NAME or hostname, plus pid)`;

export class OptionsError extends Error {}

function duration(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new OptionsError(`--${flag}: ${JSON.stringify(value)} is not a duration like 15s or 1m30s`);
  return ms;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): OperatorOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'health-port': { type: 'string', default: '7472' },
        'leader-elect': { type: 'string', default: 'true' },
        'lease-name': { type: 'string', default: 'portico-operator' },
        'lease-duration': { type: 'string', default: '15s' },
        'renew-deadline': { type: 'string', default: '10s' },
        'retry-period': { type: 'string', default: '2s' },
        identity: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  if (values.help) throw new OptionsError('');
  const port = Number(values['health-port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OptionsError(`--health-port: ${JSON.stringify(values['health-port'])} is not a port number`);
  }
  const elect = values['leader-elect'];
  if (elect !== 'true' && elect !== 'false') {
    throw new OptionsError(`--leader-elect: ${JSON.stringify(elect)} must be true or false`);
  }
  const options: OperatorOptions = {
    kubeconfig: values.kubeconfig,
    namespace: values.namespace ?? env.POD_NAMESPACE ?? 'portico-system',
    healthPort: port,
    leaderElect: elect === 'true',
    leaseName: values['lease-name'],
    identity: values.identity ?? `${env.POD_NAME ?? hostname()}_${process.pid}`,
    leaseDurationMs: duration('lease-duration', values['lease-duration']),
    renewDeadlineMs: duration('renew-deadline', values['renew-deadline']),
    retryPeriodMs: duration('retry-period', values['retry-period']),
  };
  if (options.renewDeadlineMs >= options.leaseDurationMs) {
    throw new OptionsError('--renew-deadline must be shorter than --lease-duration');
  }
  if (options.retryPeriodMs >= options.renewDeadlineMs) {
    throw new OptionsError('--retry-period must be shorter than --renew-deadline');
  }
  return options;
}
