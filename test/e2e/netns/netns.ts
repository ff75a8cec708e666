// Network namespaces for e2e tests: a Lab creates namespaces, veth links and
// processes inside them, remembers all of it, and removes all of it in
// cleanup() (processes by pid first, then the namespaces). Names carry a
// per-lab prefix so parallel runs never collide, and veth ends are created
// directly inside their namespaces, never in the host's.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(argv: readonly string[], input?: string): Promise<RunResult> {
  const [cmd, ...args] = argv;
  return new Promise((resolve) => {
    const child = execFile(cmd ?? '', args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
    // The child may exit without reading stdin; its exit code tells what happened.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

export async function runOk(argv: readonly string[], input?: string): Promise<string> {
  const r = await run(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Why these tests cannot run here, or null when they can. */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'nft']) {
    if ((await run(['sh', '-c', `command -v ${tool}`])).code !== 0) return `${tool} is not installed`;
  }
  return null;
}

/** Path of a helper script next to this file, to run with process.execPath. */
export function helperScript(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

export class Lab {
  readonly prefix: string;
  readonly #namespaces: string[] = [];
  readonly #processes: ChildProcess[] = [];

  constructor(tag: string) {
    this.prefix = `pt${tag}-${randomBytes(3).toString('hex')}`;
  }

  /** Full name of a namespace of this lab. */
  ns(short: string): string {
    return `${this.prefix}-${short}`;
  }

  async addNamespace(short: string): Promise<string> {
    const name = this.ns(short);
    await runOk(['ip', 'netns', 'add', name]);
    this.#namespaces.push(name);
    await this.exec(short, ['ip', 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** Runs argv inside namespace `short`; throws on failure. */
  exec(short: string, argv: readonly string[], input?: string): Promise<string> {
    return runOk(['ip', 'netns', 'exec', this.ns(short), ...argv], input);
  }

  /** Runs argv inside namespace `short`; returns the result whatever it is. */
  tryExec(short: string, argv: readonly string[], input?: string): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.ns(short), ...argv], input);
  }

  /** A veth pair: `ifA` in namespace `a`, `ifB` in namespace `b`, both up. */
  async link(a: string, ifA: string, b: string, ifB: string): Promise<void> {
    await runOk([
      'ip',
      'link',
      'add',
      ifA,
      'netns',
      this.ns(a),
      'type',
      'veth',
      'peer',
      'name',
      ifB,
      'netns',
      this.ns(b),
    ]);
    await this.exec(a, ['ip', 'link', 'set', ifA, 'up']);
    await this.exec(b, ['ip', 'link', 'set', ifB, 'up']);
  }

  /** Adds an address (IPv6 without duplicate address detection, so it is usable at once). */
  async addr(short: string, dev: string, cidr: string): Promise<void> {
    const extra = cidr.includes(':') ? ['nodad'] : [];
    await this.exec(short, ['ip', 'addr', 'add', cidr, 'dev', dev, ...extra]);
  }

  /** Sets a sysctl of namespace `short` (written to /proc/sys, so procps is not needed). */
  async sysctl(short: string, key: string, value: string): Promise<void> {
    await this.exec(short, ['sh', '-c', `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`]);
  }

  /**
   * Starts a long-running process in namespace `short` and resolves, with
   * what it printed so far, once its stdout matches `ready` (at once when
   * `ready` is null). It is ended by pid in cleanup().
   */
  start(
    short: string,
    argv: readonly string[],
    ready: RegExp | null,
    timeoutMs = 10_000,
  ): Promise<{ child: ChildProcess; output: string }> {
    const child = spawn('ip', ['netns', 'exec', this.ns(short), ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#processes.push(child);
    // No readiness line to wait for (e.g. a daemon polled through its own socket).
    if (ready === null) return Promise.resolve({ child, output: '' });
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`${argv.join(' ')}: not ready after ${timeoutMs} ms: ${out}`)),
        timeoutMs,
      );
      const onData = (b: Buffer): void => {
        out += b.toString('utf8');
        if (ready.test(out)) {
          clearTimeout(timer);
          resolve({ child, output: out });
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${argv.join(' ')} exited with ${code}: ${out}`));
      });
    });
  }

  /** Ends every process (by pid) and removes every namespace. Safe to call more than once. */
  async cleanup(): Promise<void> {
    const exits = this.#processes.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        return;
      }
      await gone;
    });
    await Promise.all(exits);
    this.#processes.length = 0;
    for (const name of this.#namespaces.splice(0).reverse()) {
      if (existsSync(`/run/netns/${name}`)) await run(['ip', 'netns', 'del', name]);
    }
  }
}
