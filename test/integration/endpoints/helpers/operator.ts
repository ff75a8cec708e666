// Operator flags shared by the endpoints integration tests.
import { USAGE } from '../../../../operator/options.ts';

/** Fast DNS refresh for tests; webhooks off where the operator has them (they are tested elsewhere). */
export function endpointsArgs(dnsServer?: string): string[] {
  return [
    '--lease-name=portico-operator',
    ...(dnsServer ? [`--dns-server=${dnsServer}`] : []),
    '--dns-min-refresh=1s',
    '--dns-max-refresh=2s',
    ...(USAGE.includes('--webhook-port') ? ['--webhook-port=0'] : []),
  ];
}
