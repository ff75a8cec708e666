// Command-line flags of the speaker, parsed into a plain, validated object.
// Pure, so bad flags are reported with the flag named before anything starts.
import { parseArgs } from 'node:util';
import { parseCIDR, parseDuration } from '../crds/index.ts';

export type DataplaneFlag = 'none' | 'ipvs' | 'nftables';

export interface SpeakerOptions {
  kubeconfig?: string;
  nodeName: string;
  namespace: string;
  healthPort: number;
  dataplane: {
    mode: DataplaneFlag;
    minSyncIntervalMs: number;
    fullResyncIntervalMs: number;
    clusterCIDRs: string[];
    nodePortAddresses: string[];
    masqueradeAll: boolean;
    allowKubeProxy: boolean;
    /** At startup, remove what Portico's other data path modes left on the node. */
    cleanupLeftovers: boolean;
  };
  l2: {
    enabled: boolean;
    heartbeatPort: number;
    heartbeatIntervalMs: number;
    deadAfterMs: number;
    interfaces: string[];
  };
  bgp: { enabled: boolean; listenAddress: string; listenPort: number; bfdPort: number };
}

export const USAGE = `usage: portico-speaker [flags]
  --kubeconfig PATH          kubeconfig to use (default: KUBECONFIG, in-cluster, ~/.kube/config)
  --node-name NAME           the Node this speaker runs on (default: $NODE_NAME; required)
  --namespace NS             Portico's namespace (default: $POD_NAMESPACE or portico-system)
  --health-port N            port for /metrics, /healthz and /readyz (default 7473)
  --dataplane MODE           none | ipvs | nftables (default none: kube-proxy forwards)
  --min-sync-interval D      data path: at most one sync per interval (default 1s)
  --full-resync-interval D   data path: read back and repair at least this often (default 1m)
  --cluster-cidrs LIST       data path: pod CIDRs, comma-separated (masquerade traffic from outside)
  --nodeport-addresses LIST  data path: serve NodePorts only on node addresses in these CIDRs
  --masquerade-all BOOL      data path: masquerade all Service traffic (default false)
  --allow-kube-proxy BOOL    data path: start even beside kube-proxy's rules (default false)
  --cleanup-leftovers BOOL   at startup, remove the rules of Portico's other data path modes (default true)
  --l2 on|off                ARP/NDP announcement (default on)
  --l2-heartbeat-port N      UDP port speakers exchange heartbeats on (default 7947)
  --l2-heartbeat-interval D  time between heartbeats (default 100ms)
  --l2-dead-after D          a speaker not heard for this long is dead (default 350ms)
  --l2-interfaces LIST       interfaces ARP/NDP may use, comma-separated (default: all that do ARP)
  --bgp on|off               BGP announcement (default off)
  --bgp-listen-address IP    where BGP peers connect to us (default ::, both families)
  --bgp-listen-port N        BGP port (default 179)
  --bfd-port N               BFD's UDP port (default 3784)`;

export class OptionsError extends Error {}

function duration(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    throw new OptionsError(`--${flag}: ${JSON.stringify(value)} is not a positive duration like 100ms or 1s`);
  }
  return ms;
}

function port(flag: string, value: string, allowZero = true): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535 || (!allowZero && n === 0)) {
    throw new OptionsError(`--${flag}: ${JSON.stringify(value)} is not a port number`);
  }
  return n;
}

function onOff(flag: string, value: string): boolean {
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new OptionsError(`--${flag}: ${JSON.stringify(value)} must be on or off`);
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function cidrs(flag: string, value: string | undefined): string[] {
  const out = list(value);
  for (const c of out) {
    if (!parseCIDR(c)) throw new OptionsError(`--${flag}: ${JSON.stringify(c)} is not a CIDR`);
  }
  return out;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): SpeakerOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        kubeconfig: { type: 'string' },
        'node-name': { type: 'string' },
        namespace: { type: 'string' },
        'health-port': { type: 'string', default: '7473' },
        dataplane: { type: 'string', default: 'none' },
        'min-sync-interval': { type: 'string', default: '1s' },
        'full-resync-interval': { type: 'string', default: '1m' },
        'cluster-cidrs': { type: 'string' },
        'nodeport-addresses': { type: 'string' },
        'masquerade-all': { type: 'string', default: 'false' },
        'allow-kube-proxy': { type: 'string', default: 'false' },
        'cleanup-leftovers': { type: 'string', default: 'true' },
        l2: { type: 'string', default: 'on' },
        'l2-heartbeat-port': { type: 'string', default: '7947' },
        'l2-heartbeat-interval': { type: 'string', default: '100ms' },
        'l2-dead-after': { type: 'string', default: '350ms' },
        'l2-interfaces': { type: 'string' },
        bgp: { type: 'string', default: 'off' },
        'bgp-listen-address': { type: 'string', default: '::' },
        'bgp-listen-port': { type: 'string', default: '179' },
        'bfd-port': { type: 'string', default: '3784' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  if (values.help) throw new OptionsError('');
  const nodeName = values['node-name'] ?? env.NODE_NAME;
  if (!nodeName) throw new OptionsError('--node-name (or $NODE_NAME) is required');
  const mode = values.dataplane;
  if (mode !== 'none' && mode !== 'ipvs' && mode !== 'nftables') {
    throw new OptionsError(`--dataplane: ${JSON.stringify(mode)} must be none, ipvs or nftables`);
  }
  const options: SpeakerOptions = {
    kubeconfig: values.kubeconfig,
    nodeName,
    namespace: values.namespace ?? env.POD_NAMESPACE ?? 'portico-system',
    healthPort: port('health-port', values['health-port']),
    dataplane: {
      mode,
      minSyncIntervalMs: duration('min-sync-interval', values['min-sync-interval']),
      fullResyncIntervalMs: duration('full-resync-interval', values['full-resync-interval']),
      clusterCIDRs: cidrs('cluster-cidrs', values['cluster-cidrs']),
      nodePortAddresses: cidrs('nodeport-addresses', values['nodeport-addresses']),
      masqueradeAll: onOff('masquerade-all', values['masquerade-all']),
      allowKubeProxy: onOff('allow-kube-proxy', values['allow-kube-proxy']),
      cleanupLeftovers: onOff('cleanup-leftovers', values['cleanup-leftovers']),
    },
    l2: {
      enabled: onOff('l2', values.l2),
      heartbeatPort: port('l2-heartbeat-port', values['l2-heartbeat-port'], false),
      heartbeatIntervalMs: duration('l2-heartbeat-interval', values['l2-heartbeat-interval']),
      deadAfterMs: duration('l2-dead-after', values['l2-dead-after']),
      interfaces: list(values['l2-interfaces']),
    },
    bgp: {
      enabled: onOff('bgp', values.bgp),
      listenAddress: values['bgp-listen-address'],
      listenPort: port('bgp-listen-port', values['bgp-listen-port']),
      bfdPort: port('bfd-port', values['bfd-port'], false),
    },
  };
  if (options.l2.deadAfterMs < 2 * options.l2.heartbeatIntervalMs) {
    throw new OptionsError('--l2-dead-after must be at least twice --l2-heartbeat-interval');
  }
  return options;
}
