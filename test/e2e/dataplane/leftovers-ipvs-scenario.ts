// The IPVS side of the leftover cleanup, run inside User-Mode Linux by
// leftovers.test.ts (this kernel has no IPVS). In a node namespace it sets up
// what mode ipvs leaves (portico-ipvs0 with VIPs, their virtual servers, the
// companion's iptables-legacy chains and jumps for both families, as the
// backend renders them) next to what is not Portico's (kube-ipvs0 and its
// virtual server, a NodePort on the node address, a firewall-mark service,
// kube-proxy-like KUBE-* chains with jumps from the same built-in chains),
// runs cleanupLeftovers for modes ipvs and none behind the namespace prefix,
// and prints one JSON object of observations on stdout; the jest test on the
// host asserts on them. A second, untouched namespace shows that the cleanup
// creates no iptables table where there was none.
// Usage (inside the guest): node leftovers-ipvs-scenario.ts
import { DEFAULT_COMPANION_OPTIONS } from '../../../speaker/dataplane/ipvs/companion.ts';
import { renderIptablesCompanion } from '../../../speaker/dataplane/ipvs/companion-iptables.ts';
import { cleanupLeftovers } from '../../../speaker/dataplane/leftovers.ts';
import { model, service, threePods } from '../../unit/dataplane/helpers.ts';
import { PdpLab } from './pdp-lab.ts';

const HTTP = [{ name: 'http', port: 80, targetPort: 8080 }];
/** What mode ipvs programs: a Service with endpoints, one without, a dual-stack one without. */
const STATE = model(
  [
    service('web', { clusterIP: '192.0.2.10', ports: HTTP }),
    service('empty', { clusterIP: '192.0.2.12', ports: HTTP }),
    service('dual', {
      clusterIP: '192.0.2.20',
      clusterIPs: ['192.0.2.20', '2001:db8:3::20'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      ports: HTTP,
    }),
  ],
  [threePods('web')],
);
const COMPANION = { ...DEFAULT_COMPANION_OPTIONS, clusterCIDRs: ['198.51.100.0/24', '2001:db8:1::/64'] };

/** Not Portico's: kube-proxy-like chains, jumped to from the built-in chains Portico uses too. */
const FOREIGN = (family: 4 | 6): string =>
  [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    `-A KUBE-SERVICES -d ${family === 4 ? '10.96.0.1/32' : 'fd00:10:96::1/128'} -p tcp -m multiport --dports 443,6443 -j MARK --or-mark 0x4000`,
    `-A POSTROUTING -s ${family === 4 ? '10.9.0.0/16' : 'fd00:9::/64'} -j MASQUERADE`,
    'COMMIT',
    '*filter',
    ':KUBE-FIREWALL - [0:0]',
    '-A INPUT -j KUBE-FIREWALL',
    '-A OUTPUT -j KUBE-FIREWALL',
    `-A KUBE-FIREWALL -d ${family === 4 ? '127.0.0.0/8' : '::1/128'} -m comment --comment "block localnet" -j DROP`,
    'COMMIT',
    '',
  ].join('\n');

async function main(): Promise<void> {
  const observations: Record<string, unknown> = {};
  const lab = new PdpLab('lfti');
  try {
    await lab.addNamespace('node');
    const prefix = ['ip', 'netns', 'exec', lab.ns('node')];
    const exec = (...argv: string[]) => lab.exec('node', argv);
    const dummy = async (name: string, ...cidrs: string[]) => {
      await exec('ip', 'link', 'add', name, 'type', 'dummy');
      await exec('ip', 'link', 'set', name, 'up');
      for (const c of cidrs) await lab.addr('node', name, c);
    };
    await dummy('eth0', '203.0.113.1/24');
    await dummy('portico-ipvs0', '192.0.2.10/32', '2001:db8:3::10/128');
    await dummy('kube-ipvs0', '10.96.0.1/32');
    await lab.exec(
      'node',
      ['ipvsadm', '--restore'],
      [
        // Portico's: VIPs on portico-ipvs0
        '-A -t 192.0.2.10:80 -s rr',
        '-a -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 1',
        '-A -u 192.0.2.10:53 -s rr -p 10800',
        '-A -t [2001:db8:3::10]:80 -s rr',
        // not Portico's
        '-A -t 10.96.0.1:443 -s rr',
        '-a -t 10.96.0.1:443 -r 203.0.113.5:6443 -m -w 1',
        '-A -t 203.0.113.1:30080 -s rr',
        '-A -f 7 -s rr',
        '',
      ].join('\n'),
    );
    const tools = { 4: 'iptables-legacy', 6: 'ip6tables-legacy' } as const;
    const save = async (family: 4 | 6) => ({
      nat: await exec(`${tools[family]}-save`, '-t', 'nat'),
      filter: await exec(`${tools[family]}-save`, '-t', 'filter'),
    });
    const iptables = async () => ({ 4: await save(4), 6: await save(6) });
    for (const family of [4, 6] as const) {
      const restore = (text: string) =>
        lab.exec('node', [`${tools[family]}-restore`, '-w', '5', '--noflush'], text);
      await restore(FOREIGN(family));
      // A full sync of the backend's iptables companion: read back, then chains and jumps.
      await restore(renderIptablesCompanion(STATE, COMPANION, family, await save(family)));
    }
    observations['before'] = await exec('ipvsadm', '-Sn');
    observations['iptablesBefore'] = await iptables();
    // A namespace that never used iptables: the cleanup must not create its tables.
    await lab.addNamespace('clean');
    const names = async () => ({
      4: await lab.exec('clean', ['cat', '/proc/net/ip_tables_names']),
      6: await lab.exec('clean', ['cat', '/proc/net/ip6_tables_names']),
    });
    observations['cleanNamesBefore'] = await names();
    observations['cleanNs'] = await cleanupLeftovers({
      mode: 'none',
      prefix: ['ip', 'netns', 'exec', lab.ns('clean')],
    });
    observations['cleanNamesAfter'] = await names();
    // Mode ipvs keeps all of it (and the guest has no nf_tables for inet: nft fails, which is tolerated).
    observations['ipvsMode'] = await cleanupLeftovers({ mode: 'ipvs', prefix });
    observations['afterIpvsMode'] = await exec('ipvsadm', '-Sn');
    observations['iptablesAfterIpvsMode'] = await iptables();
    observations['none'] = await cleanupLeftovers({ mode: 'none', prefix });
    observations['afterNone'] = await exec('ipvsadm', '-Sn');
    observations['iptablesAfterNone'] = await iptables();
    observations['links'] = await exec('ip', '-o', 'link', 'show');
    observations['again'] = await cleanupLeftovers({ mode: 'none', prefix });
  } catch (err) {
    observations['error'] = err instanceof Error ? `${err.stack ?? err.message}` : String(err);
  } finally {
    await lab.cleanup();
  }
  process.stdout.write(`${JSON.stringify(observations)}\n`);
}

await main();
