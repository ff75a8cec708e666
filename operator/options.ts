// Command-line flags of the operator, parsed into a plain, validated object.
// Pure, so bad flags are reported with the flag named before anything starts.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../crds/index.ts';
import {
  ENDPOINTS_FLAGS,
  ENDPOINTS_USAGE,
  EndpointsOptionsError,
  parseEndpointsOptions,
} from './controllers/endpoints/options.ts';
import type { EndpointsOptions } from './controllers/endpoints/options.ts';
import {
  LOADBALANCER_FLAGS,
  LOADBALANCER_USAGE,
  LoadBalancerOptionsError,
  parseLoadBalancerOptions,
} from './controllers/loadbalancer/options.ts';
import type { LoadBalancerOptions } from './controllers/loadbalancer/options.ts';
import { parsePortRange } from './allocator/ports.ts';
import type { PortRange } from './allocator/ports.ts';

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
  webhook: WebhookOptions;
  /** ServiceBackends DNS: servers and refresh bounds. */
  endpoints: EndpointsOptions;
  /** LoadBalancer Services: class, default, sticky hold. */
  loadBalancer: LoadBalancerOptions;
  /** How often the audit re-checks every Service against its pools (besides on changes). */
  auditIntervalMs: number;
  /** The cluster's --service-node-port-range; NodePortPools must lie inside it. */
  nodePortRange: PortRange;
}

export interface WebhookOptions {
  /** HTTPS port of the admission webhooks; 0 disables them. */
  port: number;
  /** Base URL the apiserver calls; set for out-of-cluster runs, then the operator owns the configurations. */
  url?: string;
  service: string;
  secretName: string;
  validatingConfiguration: string;
  mutatingConfiguration: string;
  caValidityMs: number;
  certValidityMs: number;
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
  --identity ID            this replica's name in the Lease (default $POD_NAME or hostname, plus pid)
  --webhook-port N         HTTPS port of the admission webhooks; 0 disables them (default 9443)
  --webhook-url URL        base URL the apiserver calls the webhooks at (out-of-cluster runs, tests);
                           the operator then creates the webhook configurations itself
  --webhook-service NAME   the Service in front of the webhooks, named in the certificate (default portico-webhook)
  --webhook-secret NAME    Secret holding the webhook CA and certificate (default portico-webhook-cert)
  --validating-webhook-configuration NAME   (default portico-validating-webhook; "" for none)
  --mutating-webhook-configuration NAME     (default portico-mutating-webhook; "" for none)
  --webhook-ca-validity D  lifetime of a new webhook CA (default 87600h, 10 years)
  --webhook-cert-validity D  lifetime of a new serving certificate (default 8760h, 1 year)
  --audit-interval D       how often the audit re-checks every Service against its ClusterIP/NodePort pools,
                           besides after changes (default 1m)
  --service-node-port-range N-M  the cluster's node-port range, which NodePortPools must lie in
                           (default 30000-32767)${ENDPOINTS_USAGE}${LOADBALANCER_USAGE}`;

export class OptionsError extends Error {}

function nodePortRange(value: string): PortRange {
  const r = parsePortRange(value);
  if (!r.ok || !value.includes('-')) {
    throw new OptionsError(`--service-node-port-range: ${JSON.stringify(value)} is not a port range N-M`);
  }
  return r.value;
}

function duration(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new OptionsError(`--${flag}: ${JSON.stringify(value)} is not a duration like 15s or 1m30s`);
  return ms;
}

function portNumber(flag: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new OptionsError(`--${flag}: ${JSON.stringify(value)} is not a port number`);
  }
  return port;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function dnsLabel(flag: string, value: string): string {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new OptionsError(
      `--${flag}: ${JSON.stringify(value)} is not a DNS label (lower case, digits, '-')`,
    );
  }
  return value;
}

function dnsName(flag: string, value: string, allowEmpty = false): string {
  if (allowEmpty && value === '') return value;
  if (value.length > 253 || !value.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new OptionsError(`--${flag}: ${JSON.stringify(value)} is not a valid object name`);
  }
  return value;
}

function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError(`--webhook-url: ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' || url.search || url.hash || url.username || url.password) {
    throw new OptionsError(
      `--webhook-url: ${JSON.stringify(value)} must be https://host[:port][/path], without query, fragment or user`,
    );
  }
  return value.replace(/\/+$/, '');
}

function endpointsOptions(values: Parameters<typeof parseEndpointsOptions>[0]): EndpointsOptions {
  try {
    return parseEndpointsOptions(values);
  } catch (err) {
    if (err instanceof EndpointsOptionsError) throw new OptionsError(err.message);
    throw err;
  }
}

function loadBalancerOptions(values: Parameters<typeof parseLoadBalancerOptions>[0]): LoadBalancerOptions {
  try {
    return parseLoadBalancerOptions(values);
  } catch (err) {
    if (err instanceof LoadBalancerOptionsError) throw new OptionsError(err.message);
    throw err;
  }
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
        'webhook-port': { type: 'string', default: '9443' },
        'webhook-url': { type: 'string' },
        'webhook-service': { type: 'string', default: 'portico-webhook' },
        'webhook-secret': { type: 'string', default: 'portico-webhook-cert' },
        'validating-webhook-configuration': { type: 'string', default: 'portico-validating-webhook' },
        'mutating-webhook-configuration': { type: 'string', default: 'portico-mutating-webhook' },
        'webhook-ca-validity': { type: 'string', default: '87600h' },
        'webhook-cert-validity': { type: 'string', default: '8760h' },
        'audit-interval': { type: 'string', default: '1m' },
        'service-node-port-range': { type: 'string', default: '30000-32767' },
        ...ENDPOINTS_FLAGS,
        ...LOADBALANCER_FLAGS,
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  if (values.help) throw new OptionsError('');
  const port = portNumber('health-port', values['health-port']);
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
    webhook: {
      port: portNumber('webhook-port', values['webhook-port']),
      url: values['webhook-url'] === undefined ? undefined : webhookUrl(values['webhook-url']),
      service: dnsLabel('webhook-service', values['webhook-service']),
      secretName: dnsName('webhook-secret', values['webhook-secret']),
      validatingConfiguration: dnsName(
        'validating-webhook-configuration',
        values['validating-webhook-configuration'],
        true,
      ),
      mutatingConfiguration: dnsName(
        'mutating-webhook-configuration',
        values['mutating-webhook-configuration'],
        true,
      ),
      caValidityMs: duration('webhook-ca-validity', values['webhook-ca-validity']),
      certValidityMs: duration('webhook-cert-validity', values['webhook-cert-validity']),
    },
    endpoints: endpointsOptions(values),
    loadBalancer: loadBalancerOptions(values),
    auditIntervalMs: duration('audit-interval', values['audit-interval']),
    nodePortRange: nodePortRange(values['service-node-port-range']),
  };
  if (options.auditIntervalMs < 1000) throw new OptionsError('--audit-interval must be at least 1s');
  if (options.renewDeadlineMs >= options.leaseDurationMs) {
    throw new OptionsError('--renew-deadline must be shorter than --lease-duration');
  }
  if (options.retryPeriodMs >= options.renewDeadlineMs) {
    throw new OptionsError('--retry-period must be shorter than --renew-deadline');
  }
  if (options.webhook.url && options.webhook.port === 0) {
    throw new OptionsError('--webhook-url needs the webhooks enabled (--webhook-port other than 0)');
  }
  if (options.webhook.certValidityMs <= 0 || options.webhook.caValidityMs <= options.webhook.certValidityMs) {
    throw new OptionsError('--webhook-ca-validity must be longer than --webhook-cert-validity, both above 0');
  }
  return options;
}
