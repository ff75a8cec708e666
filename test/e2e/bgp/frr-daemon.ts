// FRR's bgpd for one test file, inside a namespace of the lab: no zebra
// (-Z, so it never touches a routing table), its config, pid file, log and
// vty socket in a temp dir, read back through vtysh's JSON and killed by pid.
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess, stopProcess, waitFor } from '../../harness/processes.ts';
import type { Managed } from '../../harness/processes.ts';

const run = promisify(execFile);

export const BGPD = '/usr/lib/frr/bgpd';
export const BFDD = '/usr/lib/frr/bfdd';

/** One path of `show bgp <afi> unicast <prefix> json`. */
export interface FrrPath {
  valid?: boolean;
  stale?: boolean;
  locPrf?: number;
  aspath?: { string: string };
  community?: { string: string };
  largeCommunity?: { string: string };
  nexthops?: { ip: string }[];
  peer?: { peerId: string };
}

export class FrrDaemon {
  readonly #dir: string;
  readonly #netns: string;
  readonly #config: string;
  #proc: Managed | undefined;
  #bfdd: Managed | undefined;

  /** `netns` is the full namespace name; `config` is bgpd's configuration. */
  constructor(dir: string, netns: string, config: string) {
    this.#dir = dir;
    this.#netns = netns;
    this.#config = config;
  }

  get logFile(): string {
    return join(this.#dir, 'bgpd.log');
  }

  async start(): Promise<void> {
    const conf = join(this.#dir, 'bgpd.conf');
    writeFileSync(conf, `hostname portico-frr\nlog file ${this.logFile}\n${this.#config}`);
    // bgpd drops to the frr user; it must be able to write its log and socket here.
    chmodSync(this.#dir, 0o777);
    const args = [
      ...['netns', 'exec', this.#netns, BGPD, '-Z', '-S', '-f', conf],
      ...['-i', join(this.#dir, 'bgpd.pid'), '--vty_socket', this.#dir, '-P', '0'],
    ];
    this.#proc = startProcess('ip', args, join(this.#dir, 'bgpd.out'));
    await waitFor('bgpd vty', async () => (await this.vtysh('show bgp summary json')) !== undefined, 30_000);
  }

  /** Starts bfdd beside bgpd, with its own config (a `bfd` block), sharing the vty socket directory. */
  async startBfdd(config: string): Promise<void> {
    const conf = join(this.#dir, 'bfdd.conf');
    writeFileSync(conf, `log file ${join(this.#dir, 'bfdd.log')}\n${config}`);
    const args = [
      ...['netns', 'exec', this.#netns, BFDD, '-f', conf, '-i', join(this.#dir, 'bfdd.pid')],
      ...['--vty_socket', this.#dir, '--bfdctl', join(this.#dir, 'bfdd.sock'), '-P', '0'],
    ];
    this.#bfdd = startProcess('ip', args, join(this.#dir, 'bfdd.out'));
    await waitFor('bfdd vty', async () => Array.isArray(await this.vtysh('show bfd peers json')), 30_000);
  }

  /** bfdd's view of a peer: status "up", "down", "init"... */
  async bfdPeer(peer: string): Promise<{ status?: string; 'remote-transmit-interval'?: number } | undefined> {
    const peers = (await this.vtysh('show bfd peers json')) as { peer: string; status?: string }[];
    return peers.find((p) => p.peer === peer);
  }

  async stop(): Promise<void> {
    await Promise.all([stopProcess(this.#proc), stopProcess(this.#bfdd)]);
    this.#proc = undefined;
    this.#bfdd = undefined;
  }

  async vtysh(command: string): Promise<unknown> {
    const { stdout } = await run('vtysh', ['--vty_socket', this.#dir, '-c', command], { timeout: 10_000 });
    return JSON.parse(stdout);
  }

  /** The neighbor's state, e.g. "Established", "Active", "Connect". */
  async peerState(neighbor: string): Promise<string> {
    const n = (await this.vtysh(`show bgp neighbors ${neighbor} json`)) as Record<
      string,
      { bgpState?: string }
    >;
    return n[neighbor]?.bgpState ?? '';
  }

  /** Prefixes in the RIB of `afi` (ipv4 or ipv6) learned from `neighbor`. */
  async prefixes(afi: 'ipv4' | 'ipv6', neighbor: string): Promise<string[]> {
    const out = (await this.vtysh(`show bgp ${afi} unicast neighbors ${neighbor} routes json`)) as {
      routes?: Record<string, unknown>;
    };
    return Object.keys(out.routes ?? {}).sort();
  }

  /** The paths of one prefix, with their attributes. */
  async paths(afi: 'ipv4' | 'ipv6', prefix: string): Promise<FrrPath[]> {
    const out = (await this.vtysh(`show bgp ${afi} unicast ${prefix} json`)) as { paths?: FrrPath[] };
    return out.paths ?? [];
  }
}
