// Refusing to fight kube-proxy. In modes ipvs and nftables Portico replaces
// kube-proxy; if both program the same node they rewrite each other's rules
// and packets for a Service go to whichever wins the hook order. So the
// speaker looks for kube-proxy's traces before it programs anything.
import type { CommandRunner } from './nftables/executor.ts';

export interface KubeProxyEvidence {
  /** `nft list chains`: every table and chain, without rules (null when nft failed or is missing). */
  readonly nftRuleset: string | null;
  /** `iptables-legacy-save` / `iptables-save` output (null when not available). */
  readonly iptables: readonly string[];
  /** `ip -o link show`. */
  readonly links: string | null;
}

/** What of kube-proxy was found, one phrase per trace; empty when nothing. Pure. */
export function kubeProxyTraces(e: KubeProxyEvidence): string[] {
  const out = new Set<string>();
  const ruleset = e.nftRuleset ?? '';
  for (const m of ruleset.matchAll(/^table (ip|ip6|inet) kube-proxy\b/gm))
    out.add(`nftables table ${m[1]} kube-proxy`);
  // iptables-nft keeps its chains in nftables tables too.
  for (const text of [ruleset, ...e.iptables]) {
    for (const m of text.matchAll(/\b(KUBE-(?:SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|PROXY-FIREWALL))\b/g))
      out.add(`iptables chain ${m[1]}`);
  }
  if (/^\d+:\s+kube-ipvs0[:@]/m.test(e.links ?? '')) out.add('interface kube-ipvs0');
  return [...out].sort();
}

export class KubeProxyFoundError extends Error {
  readonly traces: readonly string[];
  constructor(mode: string, traces: readonly string[]) {
    super(
      `kube-proxy's rules are on this node (${traces.join('; ')}). The data path mode "${mode}" replaces ` +
        `kube-proxy, and with both programming the node they would overwrite each other's rules. ` +
        `Remove kube-proxy first (delete its DaemonSet, then run "kube-proxy --cleanup" on each node, or reboot), ` +
        `or use dataplane mode "none" to keep kube-proxy. To start anyway, set --allow-kube-proxy.`,
    );
    this.name = 'KubeProxyFoundError';
    this.traces = traces;
  }
}

/** The stdout of argv, or null when it failed or the tool is not installed. */
export async function commandOutput(run: CommandRunner, argv: readonly string[]): Promise<string | null> {
  try {
    const r = await run(argv);
    return r.code === 0 ? r.stdout : null;
  } catch {
    return null; // the tool is not installed
  }
}

/** Collects the evidence on the node (behind `prefix`) and returns the traces found. */
export async function findKubeProxy(run: CommandRunner, prefix: readonly string[] = []): Promise<string[]> {
  const iptables: string[] = [];
  for (const tool of ['iptables-legacy-save', 'ip6tables-legacy-save', 'iptables-save']) {
    const out = await commandOutput(run, [...prefix, tool]);
    if (out !== null) iptables.push(out);
  }
  return kubeProxyTraces({
    nftRuleset: await commandOutput(run, [...prefix, 'nft', 'list', 'chains']),
    iptables,
    links: await commandOutput(run, [...prefix, 'ip', '-o', 'link', 'show']),
  });
}
