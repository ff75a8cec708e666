// The kernel settings each backend needs, and a writer that goes through the
// same injectable command runner as everything else (so that `ip netns exec`
// prefixes reach /proc/sys of the right namespace).
import type { CommandRunner } from './nftables/executor.ts';

export type DataplaneMode = 'ipvs' | 'nftables';

export const SYSCTLS: Record<DataplaneMode, Readonly<Record<string, string>>> = {
  // DNAT to pods means routing packets that are not for the node.
  nftables: { 'net.ipv4.ip_forward': '1' },
  ipvs: {
    'net.ipv4.ip_forward': '1',
    // Keep conntrack for IPVS-forwarded packets, so the masquerade rules apply.
    'net.ipv4.vs.conntrack': '1',
    // Drop packets of connections whose real server was deleted, so clients reconnect at once.
    'net.ipv4.vs.expire_nodest_conn': '1',
    // Forget a persistence template whose real server has weight 0 (draining), so
    // pinned clients move on instead of sticking to a terminating pod.
    'net.ipv4.vs.expire_quiescent_template': '1',
    // Strict ARP: the VIPs on the dummy interface must not be answered for on
    // other interfaces (they would steal traffic from the LoadBalancer announcer).
    'net.ipv4.conf.all.arp_ignore': '1',
    'net.ipv4.conf.all.arp_announce': '2',
  },
};

export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

/**
 * Sets each value that is not already in place: reads it with `cat` and
 * writes with `tee` only when it differs, both behind `prefix`. A node whose
 * /proc/sys is read-only to the speaker (the container runtime's default for
 * unprivileged pods) works when its own configuration already has the values;
 * otherwise this throws naming the setting and what to do.
 */
export async function applySysctls(
  settings: Readonly<Record<string, string>>,
  run: CommandRunner,
  prefix: readonly string[] = [],
): Promise<void> {
  for (const [key, value] of Object.entries(settings)) {
    const current = await run([...prefix, 'cat', sysctlPath(key)]);
    if (current.code === 0 && current.stdout.trim() === value) continue;
    const r = await run([...prefix, 'tee', sysctlPath(key)], `${value}\n`);
    if (r.code !== 0) {
      throw new Error(
        `cannot set sysctl ${key}=${value}: ${r.stderr.trim()} ` +
          `(set it in the node's own sysctl configuration, or run the speaker privileged)`,
      );
    }
  }
}
