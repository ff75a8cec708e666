// The IPVS backend's companion nftables table against this kernel (which has
// nf_tables but no IPVS; the UML guest has IPVS but no nf_tables for
// ip/ip6/inet). It checks that the kernel takes the table as rendered, that
// a re-render replaces it whole, and that the sets hold what the model says.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_COMPANION_OPTIONS, renderCompanion } from '../../../speaker/dataplane/ipvs/companion.ts';
import { netnsUnavailable } from '../netns/netns.ts';
import { model, service, threePods } from '../../unit/dataplane/helpers.ts';
import { PdpLab } from './pdp-lab.ts';

const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`companion table tests cannot run here: ${unavailable}`);

const options = { ...DEFAULT_COMPANION_OPTIONS, clusterCIDRs: ['198.51.100.0/24', '2001:db8:1::/64'] };
const HTTP_PORT = { name: 'http', port: 80, targetPort: 8080 };
const HTTP = [HTTP_PORT];

describe('IPVS companion table in nftables', () => {
  const lab = new PdpLab('cmp');
  beforeAll(async () => {
    await lab.addNamespace('node');
  });
  afterAll(async () => {
    await lab.cleanup();
  });

  const setElements = async (name: string): Promise<string[]> => {
    const json = JSON.parse(
      await lab.exec('node', ['nft', '-j', 'list', 'set', 'inet', 'portico-ipvs', name]),
    ) as {
      nftables: { set?: { elem?: { concat: (string | number)[] }[] } }[];
    };
    const set = json.nftables.find((x) => x.set)?.set;
    return (set?.elem ?? []).map((e) => e.concat.join(' . ')).sort();
  };

  it('the kernel takes the table, and a second render replaces it in one transaction', async () => {
    const first = model(
      [
        service('web', {
          type: 'NodePort',
          clusterIP: '192.0.2.10',
          ports: [{ ...HTTP_PORT, nodePort: 30080 }],
        }),
        service('empty', { clusterIP: '192.0.2.12', ports: HTTP }),
        service('local', {
          type: 'NodePort',
          clusterIP: '192.0.2.14',
          externalTrafficPolicy: 'Local',
          ports: [{ ...HTTP_PORT, nodePort: 30081 }],
        }),
      ],
      [threePods('web'), threePods('local', ['node-2', 'node-2', 'node-2'])],
    );
    await lab.exec('node', ['nft', '-f', '-'], renderCompanion(first, options));
    expect(await setElements('masq4')).toEqual(['203.0.113.1 . tcp . 30080']);
    expect(await setElements('cluster4')).toEqual([
      '192.0.2.10 . tcp . 80',
      '192.0.2.12 . tcp . 80',
      '192.0.2.14 . tcp . 80',
    ]);
    expect(await setElements('reject4')).toEqual(['192.0.2.12 . tcp . 80']);
    // Local policy, endpoints only on another node: external traffic is dropped.
    expect(await setElements('drop4')).toEqual(['203.0.113.1 . tcp . 30081']);

    const second = model([service('web', { clusterIP: '192.0.2.10', ports: HTTP })], [threePods('web')]);
    await lab.exec('node', ['nft', '-f', '-'], renderCompanion(second, options));
    expect(await setElements('masq4')).toEqual([]);
    expect(await setElements('reject4')).toEqual([]);
    expect(await setElements('cluster4')).toEqual(['192.0.2.10 . tcp . 80']);
    const tables = await lab.exec('node', ['nft', 'list', 'tables']);
    expect(tables.trim()).toBe('table inet portico-ipvs');
  });
});
