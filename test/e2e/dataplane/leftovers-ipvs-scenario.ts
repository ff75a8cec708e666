// The IPVS side of the leftover cleanup, run inside User-Mode Linux by
// leftovers.test.ts (this kernel has no IPVS). In a node namespace it sets up
// what mode ipvs leaves (portico-ipvs0 with VIPs, their virtual servers) next
// to what is not Portico's (kube-ipvs0 and its virtual server, a NodePort on
// the node address, a firewall-mark service), runs cleanupLeftovers for
// modes ipvs and none behind the namespace prefix, and prints one JSON object
// of observations on stdout; the jest test on the host asserts on them.
// Usage (inside the guest): node leftovers-ipvs-scenario.ts
import { cleanupLeftovers } from '../../../speaker/dataplane/leftovers.ts';
import { PdpLab } from './pdp-lab.ts';

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
    observations['before'] = await exec('ipvsadm', '-Sn');
    // Mode ipvs keeps all of it (and the guest has no nf_tables for inet: nft fails, which is tolerated).
    observations['ipvsMode'] = await cleanupLeftovers({ mode: 'ipvs', prefix });
    observations['afterIpvsMode'] = await exec('ipvsadm', '-Sn');
    observations['none'] = await cleanupLeftovers({ mode: 'none', prefix });
    observations['afterNone'] = await exec('ipvsadm', '-Sn');
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
