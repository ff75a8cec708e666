// MetalLB's configuration before CRDs: the `config` key of its ConfigMap
// (kebab-case keys), and the AddressPool kind (v1alpha1/v1beta1) that came
// between. Both are turned into the metallb.io objects MetalLB's own
// migration would make, so the per-kind converters handle the rest:
// - each address pool becomes an IPAddressPool of the same name, plus an
//   L2Advertisement (protocol layer2) or BGPAdvertisements (protocol bgp:
//   one per bgp-advertisements entry, or one plain one) for that pool;
// - each peer becomes BGPPeer `peer-<n>`, each BFD profile a BFDProfile;
// - bgp-communities becomes one Community `<configmap>-communities`.
// Keys this table does not know are reported, naming the ConfigMap path.
import { parse } from 'yaml';
import { describe, isRecord } from './input.ts';
import type { ConfigKind, ConfigMapDoc, Meta, MetalLBObject } from './input.ts';
import type { Issues } from './report.ts';

type KeyMap = Record<string, string>;

const POOL_KEYS: KeyMap = {
  name: 'name',
  protocol: 'protocol',
  addresses: 'addresses',
  'auto-assign': 'autoAssign',
  'avoid-buggy-ips': 'avoidBuggyIPs',
  'bgp-advertisements': 'bgpAdvertisements',
};
const ADVERTISEMENT_KEYS: KeyMap = {
  'aggregation-length': 'aggregationLength',
  'aggregation-length-v6': 'aggregationLengthV6',
  localpref: 'localPref',
  communities: 'communities',
};
const PEER_KEYS: KeyMap = {
  'my-asn': 'myASN',
  'peer-asn': 'peerASN',
  'peer-address': 'peerAddress',
  'source-address': 'sourceAddress',
  'peer-port': 'peerPort',
  'hold-time': 'holdTime',
  'keepalive-time': 'keepaliveTime',
  'router-id': 'routerID',
  'node-selectors': 'nodeSelectors',
  password: 'password',
  'bfd-profile': 'bfdProfile',
  'ebgp-multihop': 'ebgpMultiHop',
};
const SELECTOR_KEYS: KeyMap = { 'match-labels': 'matchLabels', 'match-expressions': 'matchExpressions' };
const BFD_KEYS: KeyMap = {
  name: 'name',
  'receive-interval': 'receiveInterval',
  'transmit-interval': 'transmitInterval',
  'detect-multiplier': 'detectMultiplier',
  'echo-interval': 'echoInterval',
  'echo-mode': 'echoMode',
  'passive-mode': 'passiveMode',
  'minimum-ttl': 'minimumTtl',
};
const TOP_KEYS = new Set(['peers', 'bgp-communities', 'address-pools', 'bfd-profiles']);

interface Where {
  origin: string;
  path: string;
  issues: Issues;
}

/** Renames known keys; reports and drops the rest. */
function rename(value: unknown, keys: KeyMap, w: Where): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isRecord(value)) {
    w.issues.error(w.origin, w.path, 'must be a mapping; not converted');
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    const to = keys[k];
    if (to === undefined) w.issues.error(w.origin, `${w.path}.${k}`, 'unknown MetalLB setting; left out');
    else out[to] = v;
  }
  return out;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function object(
  kind: ConfigKind,
  version: string,
  meta: Meta,
  spec: Record<string, unknown>,
  w: Where,
): MetalLBObject {
  return { kind, version, metadata: meta, spec, origin: w.origin, fieldPrefix: w.path };
}

/** An address pool (legacy or AddressPool kind, camelCase keys) as the CRD objects. */
export function expandPool(
  pool: Record<string, unknown>,
  meta: Meta,
  w: Where,
  /** How the source spells the advertisements key, for the report. */
  advertisementsKey: string,
): MetalLBObject[] {
  const { name: _name, protocol, bgpAdvertisements, ...spec } = pool;
  const out = [object('IPAddressPool', 'v1beta1', meta, spec, w)];
  const pools = { ipAddressPools: [meta.name] };
  if (protocol === 'layer2') {
    out.push(object('L2Advertisement', 'v1beta1', meta, pools, { ...w, path: `${w.path}.protocol` }));
  } else if (protocol === 'bgp') {
    const advs = list(bgpAdvertisements);
    if (advs.length === 0)
      out.push(object('BGPAdvertisement', 'v1beta1', meta, pools, { ...w, path: `${w.path}.protocol` }));
    advs.forEach((adv, i) => {
      const path = `${w.path}.${advertisementsKey}[${i}]`;
      const advSpec = isRecord(adv) ? { ...adv } : {};
      const advMeta = { ...meta, name: advs.length === 1 ? meta.name : `${meta.name}-${i + 1}` };
      out.push(object('BGPAdvertisement', 'v1beta1', advMeta, { ...advSpec, ...pools }, { ...w, path }));
    });
  } else {
    w.issues.error(
      w.origin,
      `${w.path}.protocol`,
      `protocol ${JSON.stringify(protocol)} is neither layer2 nor bgp: the pool is converted but not announced`,
    );
  }
  return out;
}

/** The objects a legacy ConfigMap stands for. */
export function fromConfigMap(cm: ConfigMapDoc, issues: Issues): MetalLBObject[] {
  const origin = describe('ConfigMap', cm.metadata);
  let config: unknown;
  try {
    config = parse(cm.data.config ?? '');
  } catch (err) {
    issues.error(origin, 'data.config', `not YAML (${(err as Error).message}); not converted`);
    return [];
  }
  if (!isRecord(config)) {
    issues.error(origin, 'data.config', 'must be a YAML mapping; not converted');
    return [];
  }
  const ns = cm.metadata.namespace;
  const meta = (name: string): Meta => ({ name, ...(ns ? { namespace: ns } : {}) });
  const out: MetalLBObject[] = [];
  for (const k of Object.keys(config)) {
    if (!TOP_KEYS.has(k)) issues.error(origin, `data.config.${k}`, 'unknown MetalLB setting; left out');
  }
  list(config['address-pools']).forEach((p, i) => {
    const w = { origin, path: `data.config.address-pools[${i}]`, issues };
    const pool = rename(p, POOL_KEYS, w);
    if (typeof pool.name !== 'string' || pool.name === '') {
      issues.error(origin, `${w.path}.name`, 'missing: the pool cannot be converted');
      return;
    }
    pool.bgpAdvertisements = list(pool.bgpAdvertisements).map((a, j) =>
      rename(a, ADVERTISEMENT_KEYS, { ...w, path: `${w.path}.bgp-advertisements[${j}]` }),
    );
    out.push(...expandPool(pool, meta(pool.name), w, 'bgp-advertisements'));
  });
  list(config.peers).forEach((p, i) => {
    const w = { origin, path: `data.config.peers[${i}]`, issues };
    const spec = rename(p, PEER_KEYS, w);
    if (spec.nodeSelectors !== undefined) {
      spec.nodeSelectors = list(spec.nodeSelectors).map((s, j) =>
        rename(s, SELECTOR_KEYS, { ...w, path: `${w.path}.node-selectors[${j}]` }),
      );
    }
    out.push(object('BGPPeer', 'v1beta1', meta(`peer-${i + 1}`), spec, w));
  });
  list(config['bfd-profiles']).forEach((p, i) => {
    const w = { origin, path: `data.config.bfd-profiles[${i}]`, issues };
    const { name, ...spec } = rename(p, BFD_KEYS, w);
    if (typeof name !== 'string' || name === '') {
      issues.error(origin, `${w.path}.name`, 'missing: the profile cannot be converted');
      return;
    }
    out.push(object('BFDProfile', 'v1beta1', meta(name), spec, w));
  });
  const communities = config['bgp-communities'];
  if (isRecord(communities) && Object.keys(communities).length > 0) {
    const w = { origin, path: 'data.config.bgp-communities', issues };
    const spec = { communities: Object.entries(communities).map(([name, value]) => ({ name, value })) };
    out.push(object('Community', 'v1beta1', meta(`${cm.metadata.name}-communities`), spec, w));
  }
  return out;
}

/** The deprecated AddressPool kind: one pool with its protocol and advertisements. */
export function fromAddressPool(src: MetalLBObject, issues: Issues): MetalLBObject[] {
  return expandPool(
    { ...src.spec },
    src.metadata,
    { origin: src.origin, path: 'spec', issues },
    'bgpAdvertisements',
  );
}
