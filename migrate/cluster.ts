// Adapter: reads what the converter needs from a cluster. metallb.io
// configuration kinds at the version MetalLB stores (BGPPeer v1beta2, the
// rest v1beta1; the deprecated AddressPool where it is still served), the
// legacy ConfigMap (named config or metallb-config, only when its `config`
// key looks like MetalLB's), and every LoadBalancer Service. A kind whose CRD
// is not installed is skipped and said so.
import { parse } from 'yaml';
import { isNotFound } from '../lib/errors.ts';
import { apiLister } from '../lib/list-watch.ts';
import type { RawKubeClient } from '../lib/raw-client.ts';
import { isRecord } from './metallb/input.ts';

const GROUP = 'metallb.io';

/** kind, plural, and the versions to try in order. */
const KINDS: readonly [string, string, readonly string[]][] = [
  ['IPAddressPool', 'ipaddresspools', ['v1beta1']],
  ['L2Advertisement', 'l2advertisements', ['v1beta1']],
  ['BGPAdvertisement', 'bgpadvertisements', ['v1beta1']],
  ['BGPPeer', 'bgppeers', ['v1beta2', 'v1beta1']],
  ['BFDProfile', 'bfdprofiles', ['v1beta1']],
  ['Community', 'communities', ['v1beta1']],
  ['AddressPool', 'addresspools', ['v1beta1', 'v1alpha1']],
];
const LEGACY_KEYS = ['address-pools', 'peers', 'bgp-communities', 'bfd-profiles'];

interface Item {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
  spec?: { type?: string };
}

export interface ClusterRead {
  docs: unknown[];
  /** What was read and what was not there. */
  notes: string[];
}

function looksLikeMetalLB(cm: Item): boolean {
  try {
    const config: unknown = parse(cm.data?.config ?? '');
    return isRecord(config) && LEGACY_KEYS.some((k) => k in config);
  } catch {
    return false;
  }
}

export async function readCluster(client: RawKubeClient): Promise<ClusterRead> {
  const docs: unknown[] = [];
  const notes: string[] = [];
  for (const [kind, plural, versions] of KINDS) {
    let read = false;
    for (const version of versions) {
      try {
        const { items } = await apiLister<Item>(client, { group: GROUP, version, plural })();
        // List items carry no apiVersion/kind; the converter needs both.
        docs.push(...items.map((i) => ({ ...i, apiVersion: `${GROUP}/${version}`, kind })));
        notes.push(`read ${items.length} ${kind} object(s) (${GROUP}/${version})`);
        read = true;
        break;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (!read && kind !== 'AddressPool')
      notes.push(`${GROUP} ${kind} is not served by this cluster: none read`);
  }
  for (const name of ['config', 'metallb-config']) {
    const { items } = await apiLister<Item>(
      client,
      { group: '', version: 'v1', plural: 'configmaps' },
      { fieldSelector: `metadata.name=${name}` },
    )();
    for (const cm of items.filter(looksLikeMetalLB)) {
      docs.push({ ...cm, apiVersion: 'v1', kind: 'ConfigMap' });
      notes.push(`read the legacy MetalLB ConfigMap ${cm.metadata?.namespace}/${cm.metadata?.name}`);
    }
  }
  const { items: services } = await apiLister<Item>(client, {
    group: '',
    version: 'v1',
    plural: 'services',
  })();
  const lbs = services.filter((s) => s.spec?.type === 'LoadBalancer');
  docs.push(...lbs.map((s) => ({ ...s, apiVersion: 'v1', kind: 'Service' })));
  notes.push(`read ${lbs.length} LoadBalancer Service(s)`);
  return { docs, notes };
}
