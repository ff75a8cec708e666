// A real DNS server for the tests: Debian's dnsmasq on a loopback port,
// answering only from a hosts file (no upstream, no /etc/hosts). The names
// under `domain` are local, so a missing AAAA is "no data", not "refused".
// SIGHUP makes it read the hosts file again.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort, startProcess, stopProcess } from './processes.ts';
import type { Managed } from './processes.ts';

export class Dnsmasq {
  readonly port: number;
  readonly hostsFile: string;
  readonly logFile: string;
  readonly domain: string;
  #proc: Managed | undefined;

  private constructor(port: number, hostsFile: string, logFile: string, domain: string) {
    this.port = port;
    this.hostsFile = hostsFile;
    this.logFile = logFile;
    this.domain = domain;
  }

  static async start(hostsFile: string, logFile: string, domain = 'backends.test'): Promise<Dnsmasq> {
    const d = new Dnsmasq(await freePort(), hostsFile, logFile, domain);
    if (!existsSync(hostsFile)) writeFileSync(hostsFile, '');
    await d.restart();
    return d;
  }

  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  writeHosts(entries: [string, string][]): void {
    writeFileSync(this.hostsFile, entries.map(([ip, name]) => `${ip} ${name}\n`).join(''));
  }

  /** Re-reads the hosts file. */
  reload(): void {
    this.#proc?.child.kill('SIGHUP');
  }

  async restart(): Promise<void> {
    this.#proc = startProcess(
      'dnsmasq',
      [
        '--no-daemon',
        `--port=${this.port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${this.hostsFile}`,
        `--local=/${this.domain}/`,
        '--log-queries',
      ],
      this.logFile,
    );
    const started = Date.now();
    while (!/read .*names/.test(readFileSync(this.logFile, 'utf8').split('started').pop() ?? '')) {
      if (this.#proc.child.exitCode !== null) throw new Error(`dnsmasq exited; see ${this.logFile}`);
      if (Date.now() - started > 10_000) throw new Error(`dnsmasq did not start; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await stopProcess(this.#proc);
    this.#proc = undefined;
  }
}
