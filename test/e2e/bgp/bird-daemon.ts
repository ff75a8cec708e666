// A BIRD 2 daemon started for one test file, in the foreground, with its
// config, control socket, pid file and log in a temp dir, read back through
// birdc and killed by pid. Its config has no kernel protocol, so it never
// touches the host's routing tables.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess, stopProcess, waitFor } from '../../harness/processes.ts';
import type { Managed } from '../../harness/processes.ts';

const run = promisify(execFile);

export interface BirdRoute {
  prefix: string;
  /** unicast, unreachable, blackhole... */
  kind: string;
  /** "BGP.community" -> "(65005,100)", and so on. */
  attrs: Record<string, string>;
}

/** Parses `birdc show route all`: a route line at column 0, its attributes indented by a tab. */
export function parseRoutes(text: string): BirdRoute[] {
  const out: BirdRoute[] = [];
  let current: BirdRoute | undefined;
  for (const line of text.split('\n')) {
    const route = /^([0-9a-f:.]+\/\d+)\s+(\S+)/i.exec(line);
    if (route) {
      current = { prefix: route[1] as string, kind: route[2] as string, attrs: {} };
      out.push(current);
      continue;
    }
    const attr = /^\t([\w.]+):\s?(.*)$/.exec(line);
    if (attr && current) current.attrs[attr[1] as string] = attr[2] as string;
  }
  return out;
}

export class BirdDaemon {
  readonly #dir: string;
  readonly #config: string;
  #proc: Managed | undefined;

  constructor(dir: string, config: string) {
    this.#dir = dir;
    this.#config = config;
  }

  get logFile(): string {
    return join(this.#dir, 'bird.log');
  }

  get #socket(): string {
    return join(this.#dir, 'bird.ctl');
  }

  async start(): Promise<void> {
    const conf = join(this.#dir, 'bird.conf');
    writeFileSync(conf, `log "${this.logFile}" all;\n${this.#config}`);
    const args = ['-c', conf, '-s', this.#socket, '-P', join(this.#dir, 'bird.pid'), '-f'];
    this.#proc = startProcess('bird', args, join(this.#dir, 'bird.out'));
    await waitFor(
      'BIRD control socket',
      async () => /ready/.test(await this.birdc('show', 'status')),
      30_000,
    );
  }

  async stop(): Promise<void> {
    await stopProcess(this.#proc);
    this.#proc = undefined;
  }

  async birdc(...args: string[]): Promise<string> {
    const { stdout } = await run('birdc', ['-s', this.#socket, ...args], { timeout: 10_000 });
    return stdout;
  }

  async routes(protocol: string): Promise<Map<string, BirdRoute>> {
    const text = await this.birdc('show', 'route', 'all', 'protocol', protocol);
    return new Map(parseRoutes(text).map((r) => [r.prefix, r]));
  }

  /** The Info column of `show protocols`, e.g. "Established", "Passive", "Active". */
  async protocolInfo(name: string): Promise<string> {
    const text = await this.birdc('show', 'protocols', name);
    const line = text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    return (
      line
        .trim()
        .split(/\s{2,}/)
        .pop() ?? ''
    );
  }
}
