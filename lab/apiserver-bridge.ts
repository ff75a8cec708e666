// Speakers run inside node namespaces, where the host's loopback (and so the
// apiserver) is out of reach. A Unix socket crosses namespaces: the host side
// pipes it to the apiserver, and inside each node namespace a small relay
// listens on the apiserver's own address and port, so the one kubeconfig
// works everywhere. No traffic leaves the machine.
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../test/e2e/netns/netns.ts';

const RELAY = fileURLToPath(new URL('../test/integration/endpoints/helpers/tcp-to-unix.ts', import.meta.url));

export class ApiserverBridge {
  readonly #server: Server;
  readonly #socket: string;
  readonly #target: { host: string; port: number };

  private constructor(server: Server, socket: string, target: { host: string; port: number }) {
    this.#server = server;
    this.#socket = socket;
    this.#target = target;
  }

  static async open(dir: string, apiserverUrl: string): Promise<ApiserverBridge> {
    const url = new URL(apiserverUrl);
    const target = { host: url.hostname, port: Number(url.port) };
    const socket = join(dir, 'apiserver.sock');
    rmSync(socket, { force: true });
    const server = createServer((inner) => {
      const upstream = createConnection(target);
      inner.pipe(upstream).pipe(inner);
      const close = () => {
        inner.destroy();
        upstream.destroy();
      };
      inner.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    return new ApiserverBridge(server, socket, target);
  }

  /** Starts the relay in namespace `short` (a process of `lab`, ended with it). */
  async into(lab: Lab, short: string): Promise<void> {
    const { host, port } = this.#target;
    await lab.start(
      short,
      [process.execPath, '--disable-warning=ExperimentalWarning', RELAY, host, String(port), this.#socket],
      /listening/,
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#socket, { force: true });
  }
}
