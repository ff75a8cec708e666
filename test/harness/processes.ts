// Child processes the harness owns. Every process started here is ended by pid
// when its owner stops, and also if the Node process exits without stopping it.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Jest runs tests in a sandbox whose 'exit' handlers may never fire, and a
 * test that times out can lose its handle on what it started. So every pid is
 * also appended to PORTICO_PID_FILE (set by the global setup), and the global
 * teardown ends whatever is still alive from that list.
 */
export const PID_FILE_ENV = 'PORTICO_PID_FILE';

function recordPid(pid: number | undefined, bin: string): void {
  const file = process.env[PID_FILE_ENV];
  if (file && pid) appendFileSync(file, `${pid} ${bin}\n`);
}

/** SIGKILLs every recorded process that is still the binary we started (pids can be reused). */
export function killRecorded(file: string): number {
  if (!existsSync(file)) return 0;
  let killed = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [pidText, bin] = line.split(' ');
    const pid = Number(pidText);
    if (!pid || !bin) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      if (cmd !== bin) continue;
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // already gone
    }
  }
  return killed;
}

export interface Managed {
  child: ChildProcess;
  logFile: string;
}

/** Starts a binary with stdout and stderr appended to logFile. */
export function startProcess(bin: string, args: string[], logFile: string): Managed {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  live.add(child);
  recordPid(child.pid, bin);
  child.once('exit', () => live.delete(child));
  return { child, logFile };
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited. */
export async function stopProcess(
  m: Managed | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
) {
  if (!m || m.child.exitCode !== null || m.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => m.child.once('exit', () => resolve()));
  m.child.kill(signal);
  const timer = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A port the kernel just handed out on loopback; free again when this resolves. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls fn until it returns true or the deadline passes, then throws with what. */
export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}
