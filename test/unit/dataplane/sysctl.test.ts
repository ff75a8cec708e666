import { describe, expect, it } from '@jest/globals';
import type { CommandRunner } from '../../../speaker/dataplane/nftables/executor.ts';
import { SYSCTLS, applySysctls, sysctlPath } from '../../../speaker/dataplane/sysctl.ts';

describe('sysctls', () => {
  it('IPVS needs conntrack, the expiry settings and strict ARP', () => {
    expect(SYSCTLS.ipvs).toMatchObject({
      'net.ipv4.vs.conntrack': '1',
      'net.ipv4.vs.expire_nodest_conn': '1',
      'net.ipv4.vs.expire_quiescent_template': '1',
      'net.ipv4.conf.all.arp_ignore': '1',
      'net.ipv4.conf.all.arp_announce': '2',
    });
    expect(sysctlPath('net.ipv4.vs.conntrack')).toBe('/proc/sys/net/ipv4/vs/conntrack');
  });

  it('writes each value with tee behind the prefix, and names the one that failed', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (argv, input) => {
      calls.push(`${argv.join(' ')}${input === undefined ? '' : ` <${input.trim()}`}`);
      if (argv.includes('cat')) return { code: 0, stdout: '0\n', stderr: '' };
      return argv.includes('/proc/sys/net/ipv4/vs/conntrack')
        ? { code: 1, stdout: '', stderr: 'No such file or directory' }
        : { code: 0, stdout: '', stderr: '' };
    };
    await applySysctls({ 'net.ipv4.ip_forward': '1' }, run, ['ip', 'netns', 'exec', 'n']);
    expect(calls).toEqual([
      'ip netns exec n cat /proc/sys/net/ipv4/ip_forward',
      'ip netns exec n tee /proc/sys/net/ipv4/ip_forward <1',
    ]);
    await expect(applySysctls(SYSCTLS.ipvs, run)).rejects.toThrow(/net.ipv4.vs.conntrack=1: No such file/);
  });

  it('leaves a value already in place alone, so a read-only /proc/sys with the right values works', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (argv) => {
      calls.push(argv.join(' '));
      if (argv.includes('cat')) return { code: 0, stdout: '1\n', stderr: '' };
      return { code: 1, stdout: '', stderr: 'Read-only file system' };
    };
    await applySysctls({ 'net.ipv4.ip_forward': '1' }, run);
    expect(calls).toEqual(['cat /proc/sys/net/ipv4/ip_forward']);
    await expect(applySysctls({ 'net.ipv4.conf.all.arp_ignore': '2' }, run)).rejects.toThrow(
      /arp_ignore=2: Read-only file system \(set it in the node's own sysctl configuration/,
    );
  });
});
