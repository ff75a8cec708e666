// A gobgpd started for one test file: config in a temp dir, BGP and gRPC API
// on loopback ports, read back through the gobgp CLI's JSON output, and
// killed by pid when the test is done.
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess, stopProcess, waitFor } from '../../harness/processes.ts';
import type { Managed } from '../../harness/processes.ts';

const run = promisify(execFile);

export function haveBinaries(...names: string[]): boolean {
  return names.every((n) => spawnSync('sh', ['-c', `command -v ${n}`]).status === 0);
}

export interface GoBgpNeighbor {
  address: string;
  peerAs: number;
  families: ('ipv4-unicast' | 'ipv6-unicast')[];
  /** gobgpd waits for us to connect. */
  passive?: boolean;
  /** Where gobgpd connects to when it is the active side. */
  remotePort?: number;
  localAddress?: string;
  /** TCP-MD5 password (RFC 2385). */
  password?: string;
}

export interface GoBgpConfig {
  asn: number;
  routerId: string;
  /** BGP port gobgpd listens on. */
  port: number;
  apiPort: number;
  listenAddresses: string[];
  neighbors: GoBgpNeighbor[];
  /** gobgpd's -l; debug (every UPDATE logged) unless set. */
  logLevel?: string;
}

/** One path of `gobgp global rib -j`. */
export interface GoBgpPath {
  nlri: { prefix: string };
  'neighbor-ip': string;
  attrs: ({ type: number } & Record<string, unknown>)[];
}

function toml(c: GoBgpConfig): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    '[global.config]',
    `  as = ${c.asn}`,
    `  router-id = ${q(c.routerId)}`,
    `  port = ${c.port}`,
    `  local-address-list = [${c.listenAddresses.map(q).join(', ')}]`,
  ];
  for (const n of c.neighbors) {
    lines.push(
      '',
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = ${q(n.address)}`,
      `    peer-as = ${n.peerAs}`,
    );
    if (n.password) lines.push(`    auth-password = ${q(n.password)}`);
    lines.push('  [neighbors.transport.config]', `    passive-mode = ${n.passive ? 'true' : 'false'}`);
    if (n.remotePort) lines.push(`    remote-port = ${n.remotePort}`);
    if (n.localAddress) lines.push(`    local-address = ${q(n.localAddress)}`);
    // Retry fast when gobgpd is the active side.
    lines.push('  [neighbors.timers.config]', '    connect-retry = 1', '    idle-hold-time-after-reset = 1');
    for (const f of n.families) {
      lines.push(
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        `      afi-safi-name = ${q(f)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

export class GoBgpDaemon {
  readonly config: GoBgpConfig;
  readonly #dir: string;
  #proc: Managed | undefined;

  constructor(dir: string, config: GoBgpConfig) {
    this.#dir = dir;
    this.config = config;
  }

  get logFile(): string {
    return join(this.#dir, 'gobgpd.log');
  }

  async start(): Promise<void> {
    const conf = join(this.#dir, 'gobgpd.toml');
    writeFileSync(conf, toml(this.config));
    // -p: no pprof listener (it would take port 6060 on every run).
    const args = [
      '-f',
      conf,
      '--api-hosts',
      `127.0.0.1:${this.config.apiPort}`,
      '-p',
      '-l',
      this.config.logLevel ?? 'debug',
    ];
    this.#proc = startProcess('gobgpd', args, this.logFile);
    await waitFor('gobgpd API', async () => (await this.cli('global')) !== undefined, 30_000);
  }

  async stop(): Promise<void> {
    await stopProcess(this.#proc);
    this.#proc = undefined;
  }

  /** Runs `gobgp <args> -j` against this daemon and parses the JSON. */
  async cli(...args: string[]): Promise<unknown> {
    const { stdout } = await run(
      'gobgp',
      ['-u', '127.0.0.1', '-p', String(this.config.apiPort), ...args, '-j'],
      { timeout: 30_000, maxBuffer: 256 << 20 },
    );
    return stdout.trim() === '' ? {} : JSON.parse(stdout);
  }

  /** Paths in the global RIB learned from `neighbor`, by prefix. */
  async rib(family: 'ipv4' | 'ipv6', neighbor: string): Promise<Map<string, GoBgpPath>> {
    const all = (await this.cli('global', 'rib', '-a', family)) as Record<string, GoBgpPath[]>;
    const out = new Map<string, GoBgpPath>();
    for (const [prefix, paths] of Object.entries(all)) {
      const p = paths.find((x) => x['neighbor-ip'] === neighbor);
      if (p) out.set(prefix, p);
    }
    return out;
  }

  /** gobgp's session_state: 6 is Established. */
  async sessionState(neighbor: string): Promise<number> {
    const n = (await this.cli('neighbor', neighbor)) as { state?: { session_state?: number } };
    return n.state?.session_state ?? 0;
  }
}

export const GOBGP_ESTABLISHED = 6;

/** The attribute of `type` on a path (1 ORIGIN, 2 AS_PATH, 3 NEXT_HOP, 5 LOCAL_PREF, 8 COMMUNITIES, 14 MP_REACH, 32 LARGE). */
export function attr(p: GoBgpPath | undefined, type: number): Record<string, unknown> | undefined {
  return p?.attrs.find((a) => a.type === type);
}
