// The network namespaces the BGP e2e tests run in ("pbg-<random>-<name>"),
// and our speaker as a process inside one of them (speaker-child.ts), whose
// session states the test can wait for.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Lab, helperScript } from '../netns/netns.ts';
import { waitFor } from '../../harness/processes.ts';
import type { ChildConfig } from './speaker-child.ts';
import type { OutboundRoute } from '../../../speaker/bgp/rib-out.ts';
import type { BgpState } from '../../../speaker/bgp/fsm.ts';

export class BgpLab extends Lab {
  readonly #id = randomBytes(3).toString('hex');

  constructor() {
    super('bgp');
  }

  override ns(short: string): string {
    return `pbg-${this.#id}-${short}`;
  }

  /**
   * Two namespaces joined by a veth pair: `a` has 10.0.0.1/24 (and `extraA`
   * addresses) and fd00::1/64 on "veth-a"; `b` has 10.0.0.2/24 and fd00::2/64
   * (and `extraB`) on "veth-b".
   */
  async pair(a: string, b: string, extraA: string[] = [], extraB: string[] = []): Promise<void> {
    await this.addNamespace(a);
    await this.addNamespace(b);
    await this.link(a, 'veth-a', b, 'veth-b');
    for (const cidr of ['10.0.0.1/24', 'fd00::1/64', ...extraA]) await this.addr(a, 'veth-a', cidr);
    for (const cidr of ['10.0.0.2/24', 'fd00::2/64', ...extraB]) await this.addr(b, 'veth-b', cidr);
  }
}

const NODE_ARGS = ['--disable-warning=ExperimentalWarning'];

/** speaker-child.ts running in a namespace of the lab. */
export class SpeakerProcess {
  readonly states = new Map<string, BgpState>();
  readonly bfdStates = new Map<string, string>();
  /** Every state change, in order: "id to". */
  readonly history: string[] = [];
  #child: ChildProcess | undefined;
  readonly #lab: BgpLab;
  readonly #ns: string;
  readonly #config: ChildConfig;

  constructor(lab: BgpLab, ns: string, config: ChildConfig) {
    this.#lab = lab;
    this.#ns = ns;
    this.#config = config;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const argv = [
      process.execPath,
      ...NODE_ARGS,
      helperScript('../bgp/speaker-child.ts'),
      JSON.stringify(this.#config),
    ];
    const { child, output } = await this.#lab.start(this.#ns, argv, /ready/, 30_000);
    this.#child = child;
    this.#parse(output);
    child.stdout?.on('data', (b: Buffer) => this.#parse(b.toString('utf8')));
  }

  #parse(text: string): void {
    for (const m of text.matchAll(/^(state|bfd) (\S+) (\S+)$/gm)) {
      const [, kind, id, to] = m as unknown as [string, string, string, string];
      if (kind === 'state') this.states.set(id, to as BgpState);
      else this.bfdStates.set(id, to);
      this.history.push(kind === 'state' ? `${id} ${to}` : `bfd ${id} ${to}`);
    }
  }

  setRoutes(id: string, routes: OutboundRoute[]): void {
    this.#child?.stdin?.write(`${JSON.stringify({ routes: { [id]: routes } })}\n`);
  }

  async waitState(id: string, state: BgpState, timeoutMs = 30_000): Promise<void> {
    await waitFor(`session ${id} ${state}`, async () => this.states.get(id) === state, timeoutMs, 100);
  }

  async waitBfd(id: string, state: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`BFD ${id} ${state}`, async () => this.bfdStates.get(id) === state, timeoutMs, 50);
  }

  /** Ends the process with `signal` and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
  }
}
