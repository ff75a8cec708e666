// Runs a command inside User-Mode Linux, for the tests that need kernel
// features this host lacks (IPVS). Debian's user-mode-linux package ships the
// kernel (/usr/bin/linux.uml) and its modules (/usr/lib/uml/modules/<ver>).
//
// The guest boots with the host filesystem as its root (hostfs), so it sees
// this checkout, Node 24 and the host's tools. Its init is a shell script
// written here: it mounts proc/sys and a tmpfs on /run (so `ip netns` state
// stays inside the guest), loads the modules asked for with modprobe against
// the UML module tree, runs the command, writes its output and exit code
// into a host directory, and powers off. The guest's network namespaces and
// processes vanish with it; nothing is left on the host but that directory,
// which is removed.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const UML_KERNEL = '/usr/bin/linux.uml';
export const UML_MODULES = '/usr/lib/uml/modules';

/**
 * What a guest needs to be an IPVS node: IPVS and its schedulers, veth and
 * bridge for pods, dummy for the VIP device, nf_tables without the inet family
 * (so the companion falls back) and the iptables-legacy companion's modules.
 * The guest cannot autoload (its modprobe needs -d), so they are loaded up front.
 */
export const IPVS_NODE_MODULES: readonly string[] = [
  'ip_vs',
  'ip_vs_rr',
  'ip_vs_wrr',
  'ip_vs_lc',
  'ip_vs_sh',
  'veth',
  'bridge',
  'dummy',
  'nf_tables',
  'ip_tables',
  'iptable_nat',
  'iptable_filter',
  'ip6_tables',
  'ip6table_nat',
  'ip6table_filter',
  'xt_MASQUERADE',
  'xt_mark',
  'xt_comment',
  'xt_conntrack',
  'xt_tcpudp',
  'xt_multiport',
  'ipt_REJECT',
  'ip6t_REJECT',
];

export interface UmlOptions {
  /** Modules to modprobe before the command (dependencies come with them). */
  readonly modules?: readonly string[];
  /** Guest memory; Node 24 and a few helper processes fit in 1.5 GB. */
  readonly memMb?: number;
  readonly timeoutMs?: number;
  /** Extra environment for the command. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory of the command inside the guest (a host path). */
  readonly cwd?: string;
  /** UML network devices, e.g. `eth0=tuntap,tap-n1` for a tap made beforehand. */
  readonly net?: readonly string[];
}

export interface UmlResult {
  /** The command's exit code, or null when it never finished (see console). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The kernel console, for diagnosing boot failures. */
  readonly console: string;
}

/** Why UML cannot run here, or null when it can. */
export function umlUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync(UML_KERNEL)) return `${UML_KERNEL} is missing (apt-get install user-mode-linux)`;
  if (!existsSync('/usr/sbin/modprobe') && !existsSync('/sbin/modprobe'))
    return 'modprobe is missing (apt-get install kmod)';
  if (!existsSync(UML_MODULES) || readdirSync(UML_MODULES).length === 0)
    return `no modules in ${UML_MODULES}`;
  return null;
}

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

function initScript(dir: string, argv: readonly string[], options: UmlOptions): string {
  const version = readdirSync(UML_MODULES)[0] ?? '';
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `export ${k}=${quote(v)}`);
  const modules = (options.modules ?? []).map(
    (m) => `modprobe -d /run/kroot ${quote(m)} || echo "modprobe ${m} failed" >&2`,
  );
  return [
    '#!/bin/sh',
    'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'mount -t proc proc /proc',
    'mount -t sysfs sys /sys',
    // Guest-private /run: `ip netns add` must not create files on the host.
    'mount -t tmpfs run /run',
    // modprobe -d wants <dir>/lib/modules/<version>; build that view in /run.
    `mkdir -p /run/kroot/lib/modules/${version}`,
    `mount --bind ${UML_MODULES}/${version} /run/kroot/lib/modules/${version}`,
    `exec 2>${quote(join(dir, 'stderr'))}`,
    ...modules,
    'ip link set lo up',
    ...env,
    `export TMPDIR=/run`,
    `cd ${quote(options.cwd ?? process.cwd())}`,
    `${argv.map(quote).join(' ')} >${quote(join(dir, 'stdout'))}`,
    `echo $? >${quote(join(dir, 'rc'))}`,
    'sync',
    'poweroff -f -f',
    '',
  ].join('\n');
}

/** Writes the init script into `dir` and returns the kernel's command line. */
async function prepare(dir: string, argv: readonly string[], options: UmlOptions): Promise<string[]> {
  const init = join(dir, 'init.sh');
  await writeFile(init, initScript(dir, argv, options));
  await chmod(init, 0o755);
  return [
    `mem=${options.memMb ?? 1536}M`,
    'rootfstype=hostfs',
    'rootflags=/',
    'rw',
    `init=${init}`,
    'con=null',
    'con0=null,fd:1',
    ...(options.net ?? []),
  ];
}

export interface UmlGuest {
  readonly pid: number;
  /** Resolves when the guest has gone, by itself or by stop(). */
  readonly exited: Promise<void>;
  /** Kills the guest (all its host processes) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Waits until no process of group `pgid` is left. UML's helper processes are
 * orphaned when its main process dies, and stay (as zombies) until init reaps
 * them; a caller that checks the process table right after stop() would see them.
 */
async function groupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Boots a long-running guest that runs `argv` until stopped, for the lab.
 * With `netns`, UML runs inside that host namespace, so a tap device made
 * there beforehand can be its network. The kernel console goes to `logFile`.
 */
export async function startUml(
  argv: readonly string[],
  options: UmlOptions & { netns?: string; logFile: string },
): Promise<UmlGuest> {
  const why = umlUnavailable();
  if (why) throw new Error(`cannot run User-Mode Linux: ${why}`);
  const dir = await mkdtemp(join(tmpdir(), 'lab-uml-'));
  const shm = join(dir, 'shm');
  await mkdir(shm);
  const args = await prepare(dir, argv, options);
  const log = openSync(options.logFile, 'a');
  const [bin, ...rest] = options.netns
    ? ['ip', 'netns', 'exec', options.netns, UML_KERNEL, ...args]
    : [UML_KERNEL, ...args];
  // Its own process group: UML runs as several host processes, and stop()
  // signals the group so that none of them outlives the lab.
  const child = spawn(bin!, rest, {
    stdio: ['ignore', log, log],
    env: { ...process.env, TMPDIR: shm },
    detached: true,
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('UML did not start');
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    pid,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        await exited;
      }
      await groupGone(pid, 15_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Boots UML, runs `argv` in it and resolves with its output once the guest
 * has powered off. Boot takes a few seconds; run one scenario per boot.
 */
export async function runInUml(argv: readonly string[], options: UmlOptions = {}): Promise<UmlResult> {
  const why = umlUnavailable();
  if (why) throw new Error(`cannot run User-Mode Linux: ${why}`);
  // Under the host's /tmp, on disk: UML maps its memory from a file in TMPDIR
  // with exec permission, and the guest writes results here through hostfs.
  const dir = await mkdtemp(join(tmpdir(), 'pdp-uml-'));
  try {
    const shm = join(dir, 'shm');
    await mkdir(shm);
    const args = await prepare(dir, argv, options);
    const consoleText = await new Promise<string>((resolve, reject) => {
      const child = spawn(UML_KERNEL, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TMPDIR: shm },
      });
      // A caller that exits (a benchmark stopped by a signal) takes its guest with it.
      const killGuest = () => child.pid !== undefined && child.exitCode === null && child.kill('SIGKILL');
      process.once('exit', killGuest);
      child.once('close', () => process.off('exit', killGuest));
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
      child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
      const timer = setTimeout(() => {
        // UML runs as several host processes; the group leader takes its threads with it.
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        reject(
          new Error(`UML did not power off within ${options.timeoutMs ?? 300_000} ms:\n${out.slice(-4000)}`),
        );
      }, options.timeoutMs ?? 300_000);
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    const read = (name: string): string =>
      existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '';
    const rc = read('rc').trim();
    return {
      code: rc === '' ? null : Number(rc),
      stdout: await readFile(join(dir, 'stdout'), 'utf8').catch(() => ''),
      stderr: read('stderr'),
      console: consoleText,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
