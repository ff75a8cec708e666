// The IPVS backend's companion rules against this kernel (which has nf_tables
// and ip_tables but no IPVS; the UML guest has IPVS but no nf_tables inet
// family, so there they go to iptables-legacy, see ipvs.test.ts). For the
// nftables table it checks that the kernel takes it as rendered, that a
// re-render replaces it whole, and that the sets hold what the model says;
// with real packets, that its VIP port filter refuses a node listener's port
// on a VIP while the served port and the node's own address still answer;
// for the iptables fallback, that iptables-legacy-restore and
// ip6tables-legacy-restore take the chains, that repeated syncs never
// duplicate a jump, that a full sync repairs one deleted by hand, and that
// the cleanup leaves nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { DEFAULT_COMPANION_OPTIONS, renderCompanion } from '../../../speaker/dataplane/ipvs/companion.ts';
import {
  renderIptablesCleanup,
  renderIptablesCompanion,
} from '../../../speaker/dataplane/ipvs/companion-iptables.ts';
import type { DesiredState } from '../../../speaker/dataplane/types.ts';
import { helperScript, netnsUnavailable } from '../netns/netns.ts';
import { model, service, threePods } from '../../unit/dataplane/helpers.ts';
import { PdpLab } from './pdp-lab.ts';
import { probe } from './topology.ts';

const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`companion table tests cannot run here: ${unavailable}`);
if (!existsSync('/usr/sbin/iptables-legacy-restore'))
  throw new Error(
    'companion iptables tests cannot run here: no iptables-legacy-restore (apt-get install iptables)',
  );

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

describe('the VIP port filter of the nftables table, with real packets', () => {
  // This kernel has no IPVS: a plain listener on the served port stands in for
  // it. The VIPs are local addresses, as the backend makes them.
  const lab = new PdpLab('cmpf');
  const HOST_PORT = 2222;
  const server = (name: string, port: number) =>
    lab.start(
      'node',
      [
        process.execPath,
        '--disable-warning=ExperimentalWarning',
        helperScript('hello-server.ts'),
        name,
        String(port),
      ],
      /listening/,
      20_000,
    );
  beforeAll(async () => {
    await lab.addNamespace('node');
    await lab.addNamespace('client');
    await lab.link('client', 'eth0', 'node', 'up0');
    await lab.addr('client', 'eth0', '203.0.113.2/24');
    await lab.addr('node', 'up0', '203.0.113.1/24');
    await lab.exec('client', ['ip', 'route', 'add', '192.0.2.0/24', 'via', '203.0.113.1']);
    // Local addresses, as on portico-ipvs0 (this kernel has no dummy module; the filter ignores the device).
    await lab.addr('node', 'lo', '192.0.2.10/32');
    await lab.exec('node', ['ip', 'addr', 'add', '2001:db8:3::10/128', 'dev', 'lo']);
    await server('node-host', HOST_PORT); // as sshd or the kubelet: every address
    await server('service', 80); // the stand-in for IPVS on the Service port
  }, 60_000);
  afterAll(async () => {
    await lab.cleanup();
  });

  const state = model(
    [
      service('web', {
        type: 'NodePort',
        clusterIP: '192.0.2.10',
        clusterIPs: ['192.0.2.10', '2001:db8:3::10'],
        ipFamilies: ['IPv4', 'IPv6'],
        ipFamilyPolicy: 'RequireDualStack',
        ports: [{ ...HTTP_PORT, nodePort: 30080 }],
      }),
    ],
    [threePods('web')],
  );
  const bodies = async (from: string, ip: string, port: number): Promise<string[]> =>
    (await probe(lab, from, ip, port, 1, 3000)).map((r) => (r.ok ? (r.body ?? '') : `error:${r.code}`));

  it('refuses new connections to a VIP on ports no Service serves; the Service port and node addresses answer', async () => {
    // Without the table the VIP leaks the node's listener.
    expect(await bodies('client', '192.0.2.10', HOST_PORT)).toEqual(['Hello from node-host']);
    await lab.exec('node', ['nft', '-f', '-'], renderCompanion(state, options));
    const refused = ['error:ECONNREFUSED'];
    expect(await bodies('client', '192.0.2.10', HOST_PORT)).toEqual(refused);
    expect(await bodies('node', '192.0.2.10', HOST_PORT)).toEqual(refused);
    expect(await bodies('node', '2001:db8:3::10', HOST_PORT)).toEqual(refused);
    expect(await bodies('client', '192.0.2.10', 80)).toEqual(['Hello from service']);
    expect(await bodies('node', '192.0.2.10', 80)).toEqual(['Hello from service']);
    // The node address is no VIP: its listeners are untouched.
    expect(await bodies('client', '203.0.113.1', HOST_PORT)).toEqual(['Hello from node-host']);
  }, 60_000);
});

describe('IPVS companion chains in iptables-legacy (the fallback)', () => {
  const lab = new PdpLab('cmpx');
  beforeAll(async () => {
    await lab.addNamespace('node');
  });
  afterAll(async () => {
    await lab.cleanup();
  });

  const tools = {
    4: { save: 'iptables-legacy-save', restore: 'iptables-legacy-restore' },
    6: { save: 'ip6tables-legacy-save', restore: 'ip6tables-legacy-restore' },
  } as const;
  const saved = async (family: 4 | 6) => ({
    nat: await lab.exec('node', [tools[family].save, '-t', 'nat']),
    filter: await lab.exec('node', [tools[family].save, '-t', 'filter']),
  });
  const restore = (family: 4 | 6, script: string) =>
    lab.exec('node', [tools[family].restore, '-w', '5', '--noflush'], script);
  /** A full sync: read back, render with the read-back, apply. */
  const fullSync = async (family: 4 | 6, state: DesiredState) =>
    restore(family, renderIptablesCompanion(state, options, family, await saved(family)));
  const rules = async (family: 4 | 6, table: 'nat' | 'filter'): Promise<string[]> =>
    (await saved(family))[table].split('\n').filter((l) => l.startsWith('-A '));

  const state = model(
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
      service('dual', {
        clusterIP: '192.0.2.20',
        clusterIPs: ['192.0.2.20', '2001:db8:3::20'],
        ipFamilies: ['IPv4', 'IPv6'],
        ipFamilyPolicy: 'RequireDualStack',
        ports: [{ ...HTTP_PORT, protocol: 'UDP' }],
      }),
    ],
    [threePods('web'), threePods('local', ['node-2', 'node-2', 'node-2'])],
  );

  it('the kernel takes the chains for both families, and repeated full syncs keep one jump each', async () => {
    for (const family of [4, 6] as const) {
      await fullSync(family, state);
      await fullSync(family, state);
      await restore(family, renderIptablesCompanion(state, options, family)); // partial: no read-back
    }
    const nat = await rules(4, 'nat');
    expect(nat.filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING) /.test(l))).toEqual([
      '-A PREROUTING -m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
      '-A OUTPUT -m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
      '-A POSTROUTING -m comment --comment "portico-ipvs masquerade" -j PORTICO-IPVS-POSTROUTING',
    ]);
    expect(nat.filter((l) => l.startsWith('-A PORTICO-IPVS-MARK '))).toEqual([
      '-A PORTICO-IPVS-MARK -d 203.0.113.1/32 -p tcp -m tcp --dport 30080 -m comment --comment "default/web:http nodePort" -j MARK --set-xmark 0x4000/0x4000',
      '-A PORTICO-IPVS-MARK -s 198.51.100.0/24 -j RETURN',
      '-A PORTICO-IPVS-MARK -d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" -j MARK --set-xmark 0x4000/0x4000',
      '-A PORTICO-IPVS-MARK -d 192.0.2.12/32 -p tcp -m tcp --dport 80 -m comment --comment "default/empty:http clusterIP" -j MARK --set-xmark 0x4000/0x4000',
      '-A PORTICO-IPVS-MARK -d 192.0.2.14/32 -p tcp -m tcp --dport 80 -m comment --comment "default/local:http clusterIP" -j MARK --set-xmark 0x4000/0x4000',
      '-A PORTICO-IPVS-MARK -d 192.0.2.20/32 -p udp -m udp --dport 80 -m comment --comment "default/dual:http clusterIP" -j MARK --set-xmark 0x4000/0x4000',
    ]);
    expect(nat).toContain('-A PORTICO-IPVS-POSTROUTING -j MASQUERADE --random-fully');
    expect((await rules(4, 'filter')).filter((l) => l.startsWith('-A PORTICO-IPVS-NOEP '))).toEqual([
      '-A PORTICO-IPVS-NOEP -d 192.0.2.12/32 -p tcp -m tcp --dport 80 -m comment --comment "default/empty:http clusterIP" -j REJECT --reject-with icmp-port-unreachable',
      '-A PORTICO-IPVS-NOEP -d 203.0.113.1/32 -p tcp -m tcp --dport 30081 -m comment --comment "default/local:http nodePort" -j DROP',
      '-A PORTICO-IPVS-NOEP -d 192.0.2.20/32 -p udp -m udp --dport 80 -m comment --comment "default/dual:http clusterIP" -j REJECT --reject-with icmp-port-unreachable',
    ]);
    const filter6 = await rules(6, 'filter');
    expect(filter6.filter((l) => l.endsWith('-j PORTICO-IPVS-NOEP'))).toHaveLength(2);
    // web and local are IPv4 only: IPv6 has the dual-stack ClusterIP alone (no endpoints: REJECT).
    expect(filter6.filter((l) => l.startsWith('-A PORTICO-IPVS-NOEP '))).toEqual([
      '-A PORTICO-IPVS-NOEP -d 2001:db8:3::20/128 -p udp -m udp --dport 80 -m comment --comment "default/dual:http clusterIP" -j REJECT --reject-with icmp6-port-unreachable',
    ]);
    expect((await rules(6, 'nat')).filter((l) => l.startsWith('-A PORTICO-IPVS-MARK '))).toEqual([
      '-A PORTICO-IPVS-MARK -s 2001:db8:1::/64 -j RETURN',
      '-A PORTICO-IPVS-MARK -d 2001:db8:3::20/128 -p udp -m udp --dport 80 -m comment --comment "default/dual:http clusterIP" -j MARK --set-xmark 0x4000/0x4000',
    ]);
  });

  it('a full sync puts back a jump deleted by hand; the cleanup removes chains and jumps', async () => {
    await lab.exec('node', [
      'iptables-legacy',
      '-t',
      'nat',
      '-D',
      'POSTROUTING',
      '-m',
      'comment',
      '--comment',
      'portico-ipvs masquerade',
      '-j',
      'PORTICO-IPVS-POSTROUTING',
    ]);
    await lab.exec('node', [
      'iptables-legacy',
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-s',
      '10.9.0.0/16',
      '-j',
      'ACCEPT',
    ]);
    await fullSync(4, state);
    expect((await rules(4, 'nat')).filter((l) => l.startsWith('-A POSTROUTING '))).toEqual([
      '-A POSTROUTING -m comment --comment "portico-ipvs masquerade" -j PORTICO-IPVS-POSTROUTING',
      '-A POSTROUTING -s 10.9.0.0/16 -j ACCEPT',
    ]);
    for (const family of [4, 6] as const) {
      await restore(family, renderIptablesCleanup(options, await saved(family)));
      expect(renderIptablesCleanup(options, await saved(family))).toBe('');
    }
    expect(await rules(4, 'nat')).toEqual(['-A POSTROUTING -s 10.9.0.0/16 -j ACCEPT']);
    expect(await rules(4, 'filter')).toEqual([]);
    expect(await rules(6, 'nat')).toEqual([]);
    expect((await saved(4)).nat).not.toContain('PORTICO');
  });
});
