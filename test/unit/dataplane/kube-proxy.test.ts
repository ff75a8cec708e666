import { describe, expect, it } from '@jest/globals';
import {
  KubeProxyFoundError,
  commandOutput,
  findKubeProxy,
  kubeProxyTraces,
} from '../../../speaker/dataplane/kube-proxy.ts';
import type { CommandRunner } from '../../../speaker/dataplane/nftables/executor.ts';

describe('kubeProxyTraces', () => {
  it('finds nothing on a clean node, nor in Portico own tables', () => {
    expect(
      kubeProxyTraces({
        nftRuleset: 'table inet portico {\n\tchain services {\n\t}\n}\ntable inet portico-ipvs {\n}\n',
        iptables: [''],
        links: '1: lo: <LOOPBACK,UP> mtu 65536\n7: portico-ipvs0: <BROADCAST,NOARP,UP> mtu 1500\n',
      }),
    ).toEqual([]);
  });

  it('finds the nftables proxy table, iptables chains (legacy or nft) and kube-ipvs0', () => {
    expect(
      kubeProxyTraces({
        nftRuleset: 'table ip kube-proxy {\n}\ntable ip nat {\n\tchain KUBE-SERVICES {\n\t}\n}\n',
        iptables: ['*nat\n:KUBE-NODEPORTS - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n'],
        links: '5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop\n',
      }),
    ).toEqual([
      'interface kube-ipvs0',
      'iptables chain KUBE-NODEPORTS',
      'iptables chain KUBE-SERVICES',
      'nftables table ip kube-proxy',
    ]);
  });

  it('the error says why, and how to proceed', () => {
    const err = new KubeProxyFoundError('nftables', ['interface kube-ipvs0']);
    expect(err.message).toMatch(/kube-proxy's rules are on this node \(interface kube-ipvs0\)/);
    expect(err.message).toMatch(/overwrite each other's rules/);
    expect(err.message).toMatch(/kube-proxy --cleanup/);
    expect(err.message).toMatch(/--allow-kube-proxy/);
  });
});

describe('findKubeProxy', () => {
  it('runs the tools behind the prefix and ignores ones that are missing or fail', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (argv) => {
      calls.push(argv.join(' '));
      if (argv.includes('iptables-legacy-save')) throw new Error('spawn ENOENT');
      if (argv.includes('nft')) return { code: 0, stdout: 'table inet kube-proxy {\n}\n', stderr: '' };
      return { code: 1, stdout: '', stderr: 'nope' };
    };
    expect(await findKubeProxy(run, ['ip', 'netns', 'exec', 'n'])).toEqual([
      'nftables table inet kube-proxy',
    ]);
    expect(calls.every((c) => c.startsWith('ip netns exec n '))).toBe(true);
    expect(calls).toContain('ip netns exec n nft list chains');
  });
});

describe('commandOutput', () => {
  it('is the stdout on success, and null when the command fails or the tool is missing', async () => {
    const run: CommandRunner = async (argv) => {
      if (argv[0] === 'missing') throw new Error('spawn missing ENOENT');
      return argv[0] === 'ok'
        ? { code: 0, stdout: 'out\n', stderr: '' }
        : { code: 2, stdout: 'partial', stderr: 'bad' };
    };
    expect(await commandOutput(run, ['ok'])).toBe('out\n');
    expect(await commandOutput(run, ['fails'])).toBeNull();
    expect(await commandOutput(run, ['missing'])).toBeNull();
  });
});
