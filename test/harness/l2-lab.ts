// The L2 lab for speaker tests and the failover benchmark: a switch namespace
// holding two bridges (br0, br1), node namespaces and a client namespace, each
// joined to both bridges by veth pairs created directly inside the namespaces
// (nothing on the host's interfaces). Each node can run a real speaker
// (speaker/main.ts) that reaches the harness apiserver through an
// ApiserverBridge, and has a NOARP kube-ipvs0 holding the VIPs (as the IPVS
// backend's dummy does) with strict-ARP sysctls, so the tests show that userspace answering
// coexists with it. Everything is removed in destroy(): processes by pid,
// then namespaces.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { ApiserverBridge } from './apiserver-bridge.ts';
import { PID_FILE_ENV, startProcess, stopProcess, waitFor } from './processes.ts';
import type { Managed } from './processes.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HEALTH_PORT = 7473;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(argv: readonly string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

export async function runOk(argv: readonly string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Why the lab cannot run here, or undefined when it can. */
export async function l2LabUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const tool of ['ip', 'arping', 'ndisc6', 'curl']) {
    if ((await run(['sh', '-c', `command -v ${tool}`])).code !== 0) {
      return `${tool} is not installed${tool === 'ndisc6' ? ' (Debian package ndisc6)' : tool === 'arping' ? ' (iputils-arping)' : ''}`;
    }
  }
  return undefined;
}

export interface LabNode {
  /** Short name: n1, n2, ... */
  short: string;
  netns: string;
  /** The Kubernetes Node name. */
  name: string;
  ip4: string;
  ip6: string;
  /** MACs of eth0 (on br0) and eth1 (on br1). */
  mac0: string;
  mac1: string;
  speaker?: Managed;
}

export interface L2LabOptions {
  nodes: number;
  /** VIPs put on every node's kube-ipvs0. */
  vips: string[];
}

export class L2Lab {
  readonly prefix = `pl2-${randomBytes(3).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'portico-l2-'));
  readonly nodes: LabNode[] = [];
  readonly client: string;
  readonly sw: string;
  readonly #namespaces: string[] = [];
  #bridge: ApiserverBridge | undefined;
  readonly #extra: Managed[] = [];

  constructor() {
    this.client = `${this.prefix}-c`;
    this.sw = `${this.prefix}-sw`;
  }

  exec(netns: string, argv: readonly string[]): Promise<string> {
    return runOk(['ip', 'netns', 'exec', netns, ...argv]);
  }

  tryExec(netns: string, argv: readonly string[]): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', netns, ...argv]);
  }

  async #netns(name: string): Promise<void> {
    await runOk(['ip', 'netns', 'add', name]);
    this.#namespaces.push(name);
    await this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
  }

  async #plug(netns: string, dev: string, port: string, bridge: string): Promise<void> {
    await runOk([
      'ip',
      'link',
      'add',
      dev,
      'netns',
      netns,
      'type',
      'veth',
      'peer',
      'name',
      port,
      'netns',
      this.sw,
    ]);
    await this.exec(this.sw, ['ip', 'link', 'set', port, 'master', bridge, 'up']);
    await this.exec(netns, ['ip', 'link', 'set', dev, 'up']);
  }

  async #mac(netns: string, dev: string): Promise<string> {
    return (await this.exec(netns, ['cat', `/sys/class/net/${dev}/address`])).trim();
  }

  async create(o: L2LabOptions): Promise<void> {
    await this.#netns(this.sw);
    for (const br of ['br0', 'br1']) {
      await this.exec(this.sw, ['ip', 'link', 'add', br, 'type', 'bridge']);
      await this.exec(this.sw, ['ip', 'link', 'set', br, 'up']);
    }
    await this.#netns(this.client);
    await this.#plug(this.client, 'eth0', 'c0', 'br0');
    await this.#plug(this.client, 'eth1', 'c1', 'br1');
    await this.exec(this.client, ['ip', 'addr', 'add', '192.168.77.100/24', 'dev', 'eth0']);
    await this.exec(this.client, ['ip', 'addr', 'add', 'fd00:77::100/64', 'dev', 'eth0', 'nodad']);
    await this.exec(this.client, ['ip', 'addr', 'add', '192.168.78.100/24', 'dev', 'eth1']);
    for (let i = 1; i <= o.nodes; i++) {
      const short = `n${i}`;
      const netns = `${this.prefix}-${short}`;
      await this.#netns(netns);
      await this.#plug(netns, 'eth0', `${short}e0`, 'br0');
      await this.#plug(netns, 'eth1', `${short}e1`, 'br1');
      const ip4 = `192.168.77.${10 + i}`;
      const ip6 = `fd00:77::${10 + i}`;
      await this.exec(netns, ['ip', 'addr', 'add', `${ip4}/24`, 'dev', 'eth0']);
      await this.exec(netns, ['ip', 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad']);
      await this.exec(netns, ['ip', 'addr', 'add', `192.168.78.${10 + i}/24`, 'dev', 'eth1']);
      // What the IPVS backend does to a node: VIPs on a NOARP dummy, and strict ARP.
      // This kernel has no dummy module; a port-less bridge with ARP off is the
      // same for our purpose: a NOARP interface holding the VIPs as local addresses.
      await this.exec(netns, ['ip', 'link', 'add', 'kube-ipvs0', 'type', 'bridge']);
      await this.exec(netns, ['ip', 'link', 'set', 'kube-ipvs0', 'arp', 'off', 'up']);
      for (const vip of o.vips) {
        const cidr = vip.includes(':') ? `${vip}/128` : `${vip}/32`;
        await this.exec(netns, [
          'ip',
          'addr',
          'add',
          cidr,
          'dev',
          'kube-ipvs0',
          ...(vip.includes(':') ? ['nodad'] : []),
        ]);
      }
      for (const [key, value] of [
        ['net/ipv4/conf/all/arp_ignore', '1'],
        ['net/ipv4/conf/all/arp_announce', '2'],
      ]) {
        await this.exec(netns, ['sh', '-c', `echo ${value} > /proc/sys/${key}`]);
      }
      this.nodes.push({
        short,
        netns,
        name: netns,
        ip4,
        ip6,
        mac0: await this.#mac(netns, 'eth0'),
        mac1: await this.#mac(netns, 'eth1'),
      });
    }
  }

  /**
   * A pod: its own namespace behind a veth to the node (`pod0` on the node),
   * 10.244.<i>.2 with the node at .1 as its gateway. Returns the pod's address.
   */
  async addPod(short: string): Promise<{ netns: string; ip: string }> {
    const n = this.node(short);
    const i = this.nodes.indexOf(n) + 1;
    const netns = `${n.netns}p`;
    await this.#netns(netns);
    await runOk([
      'ip',
      'link',
      'add',
      'eth0',
      'netns',
      netns,
      'type',
      'veth',
      'peer',
      'name',
      'pod0',
      'netns',
      n.netns,
    ]);
    await this.exec(netns, ['ip', 'link', 'set', 'eth0', 'up']);
    await this.exec(n.netns, ['ip', 'link', 'set', 'pod0', 'up']);
    await this.exec(netns, ['ip', 'addr', 'add', `10.244.${i}.2/24`, 'dev', 'eth0']);
    await this.exec(n.netns, ['ip', 'addr', 'add', `10.244.${i}.1/24`, 'dev', 'pod0']);
    await this.exec(netns, ['ip', 'route', 'add', 'default', 'via', `10.244.${i}.1`]);
    return { netns, ip: `10.244.${i}.2` };
  }

  /** Starts a long-running node script in a namespace; resolves once its log matches `ready`. */
  async startIn(netns: string, argv: string[], name: string, ready: RegExp): Promise<Managed> {
    const logFile = join(this.dir, `${name}.log`);
    const m = startProcess('ip', ['netns', 'exec', netns, process.execPath, ...argv], logFile);
    const pidFile = process.env[PID_FILE_ENV];
    if (pidFile && m.child.pid) appendFileSync(pidFile, `${m.child.pid} ${process.execPath}\n`);
    this.#extra.push(m);
    const { readFileSync } = await import('node:fs');
    await waitFor(`${name} ready`, async () => {
      if (m.child.exitCode !== null) throw new Error(`${name} exited; see ${logFile}`);
      return ready.test(readFileSync(logFile, 'utf8'));
    });
    return m;
  }

  node(short: string): LabNode {
    const n = this.nodes.find((x) => x.short === short || x.name === short);
    if (!n) throw new Error(`no lab node ${short}`);
    return n;
  }

  /** The lab node owning a MAC (eth0 or eth1), or undefined. */
  byMac(mac: string): LabNode | undefined {
    const m = mac.toLowerCase();
    return this.nodes.find((n) => n.mac0 === m || n.mac1 === m);
  }

  async bridgeApiserver(server: string): Promise<void> {
    this.#bridge = new ApiserverBridge(server, this.prefix);
    await this.#bridge.listen();
    for (const n of this.nodes) await this.#bridge.into(n.netns, join(this.dir, `${n.short}-bridge.log`));
  }

  /** Starts the real speaker in the node's namespace; resolves once /readyz answers 200. */
  async startSpeaker(short: string, args: string[], waitReady = true): Promise<Managed> {
    const n = this.node(short);
    const logFile = join(this.dir, `${short}-speaker.log`);
    const m = startProcess(
      'ip',
      [
        'netns',
        'exec',
        n.netns,
        process.execPath,
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'speaker', 'main.ts'),
        `--node-name=${n.name}`,
        `--health-port=${HEALTH_PORT}`,
        ...args,
      ],
      logFile,
    );
    const pidFile = process.env[PID_FILE_ENV];
    if (pidFile && m.child.pid) appendFileSync(pidFile, `${m.child.pid} ${process.execPath}\n`);
    n.speaker = m;
    if (waitReady) await this.waitSpeakerReady(short);
    return m;
  }

  async waitSpeakerReady(short: string, timeoutMs = 60_000): Promise<void> {
    const n = this.node(short);
    let exited = false;
    await waitFor(
      `speaker on ${short} ready (log: ${n.speaker?.logFile})`,
      async () => {
        exited = n.speaker !== undefined && n.speaker.child.exitCode !== null;
        if (exited) return true;
        return (
          (await this.tryExec(n.netns, ['curl', '-sf', `http://127.0.0.1:${HEALTH_PORT}/readyz`])).code === 0
        );
      },
      timeoutMs,
      250,
    );
    if (exited)
      throw new Error(
        `speaker on ${short} exited with ${n.speaker?.child.exitCode}; see ${n.speaker?.logFile}`,
      );
  }

  /** The speaker's /metrics text. */
  async metrics(short: string): Promise<string> {
    return this.exec(this.node(short).netns, ['curl', '-sf', `http://127.0.0.1:${HEALTH_PORT}/metrics`]);
  }

  async stopSpeaker(short: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const n = this.node(short);
    await stopProcess(n.speaker, signal);
    n.speaker = undefined;
  }

  /** Unplugs the node from both bridges (its links lose carrier), or plugs it back. */
  async setLink(short: string, up: boolean): Promise<void> {
    for (const p of ['e0', 'e1']) {
      await this.exec(this.sw, ['ip', 'link', 'set', `${short}${p}`, up ? 'up' : 'down']);
    }
  }

  /** MACs that answered `count` broadcast ARP requests for ip from the client (one per reply). */
  async arping(ip: string, dev = 'eth0', count = 3): Promise<string[]> {
    const r = await this.tryExec(this.client, [
      'arping',
      '-b',
      '-c',
      String(count),
      '-w',
      String(count + 1),
      '-I',
      dev,
      ip,
    ]);
    return [...r.stdout.matchAll(/reply from \S+ \[([0-9A-Fa-f:]{17})\]/g)].map((m) => m[1]!.toLowerCase());
  }

  /** MACs that answered Neighbor Solicitations for ip from the client. */
  async ndisc(ip: string, dev = 'eth0'): Promise<string[]> {
    const r = await this.tryExec(this.client, ['ndisc6', '-m', '-n', '-r', '2', '-w', '700', ip, dev]);
    return [...r.stdout.matchAll(/Target link-layer address: ([0-9A-Fa-f:]{17})/g)].map((m) =>
      m[1]!.toLowerCase(),
    );
  }

  /** The client's neighbour entry for ip: its MAC and state, or undefined. */
  async neighbour(ip: string, dev = 'eth0'): Promise<{ mac: string; state: string } | undefined> {
    const out = await this.exec(this.client, ['ip', 'neigh', 'show', ip, 'dev', dev]);
    const m = /lladdr ([0-9a-f:]{17}).* (\S+)\s*$/m.exec(out.trim());
    return m ? { mac: m[1]!, state: m[2]! } : undefined;
  }

  async destroy(): Promise<void> {
    for (const n of this.nodes) await stopProcess(n.speaker, 'SIGKILL').catch(() => undefined);
    for (const m of this.#extra.splice(0)) await stopProcess(m, 'SIGKILL').catch(() => undefined);
    await this.#bridge?.close();
    for (const ns of [...this.#namespaces].reverse()) await run(['ip', 'netns', 'del', ns]);
    this.#namespaces.length = 0;
  }
}
