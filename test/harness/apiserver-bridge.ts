// Makes the harness apiserver (on the host's loopback) reachable at the same
// address from inside network namespaces: one Unix socket in the host's
// namespace pipes to the apiserver, and a small helper inside each namespace
// listens on the apiserver's loopback address and pipes to that socket. So a
// kubeconfig works unchanged inside the namespace, and nothing is routed.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PID_FILE_ENV, startProcess, stopProcess, waitFor } from './processes.ts';
import type { Managed } from './processes.ts';
import { splice } from './splice.ts';

const HELPER = fileURLToPath(new URL('tcp-to-unix.ts', import.meta.url));

export class ApiserverBridge {
  /** The apiserver's port, which the helpers listen on too. */
  get port(): number {
    return this.#port;
  }

  readonly #host: string;
  readonly #port: number;
  readonly #socket: string;
  #server: Server | undefined;
  readonly #helpers: Managed[] = [];

  constructor(server: string, tag: string) {
    const url = new URL(server);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#socket = join(tmpdir(), `${tag}-apiserver.sock`);
  }

  async listen(): Promise<void> {
    rmSync(this.#socket, { force: true });
    const server = createServer((inner) => {
      splice(inner, createConnection({ host: this.#host, port: this.#port }));
    });
    await new Promise<void>((resolve) => server.listen(this.#socket, resolve));
    this.#server = server;
  }

  /**
   * Starts the helper inside `netns`; resolves once it listens. It listens on
   * the apiserver's own address unless `listenHost` names another (the IPVS
   * lab's UML guests reach it over the LAN).
   */
  async into(netns: string, logFile: string, listenHost = this.#host): Promise<void> {
    const m = startProcess(
      'ip',
      ['netns', 'exec', netns, process.execPath, HELPER, listenHost, String(this.#port), this.#socket],
      logFile,
    );
    // `ip netns exec` execs node, so the pid is node's: record it for the global teardown.
    const pidFile = process.env[PID_FILE_ENV];
    if (pidFile && m.child.pid) appendFileSync(pidFile, `${m.child.pid} ${process.execPath}\n`);
    this.#helpers.push(m);
    await waitFor(
      `apiserver bridge in ${netns}`,
      async () => {
        if (m.child.exitCode !== null) throw new Error(`bridge helper exited; see ${logFile}`);
        return /listening/.test(readFileSync(logFile, 'utf8'));
      },
      20_000,
      50,
    );
  }

  async close(): Promise<void> {
    for (const m of this.#helpers.splice(0)) await stopProcess(m);
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.#socket, { force: true });
  }
}
