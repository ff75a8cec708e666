// Runs nft: a script on stdin as one transaction, and the table read back as
// JSON. The command prefix is injectable, so tests can run everything inside a
// network namespace (`ip netns exec NAME`).
import { spawn } from 'node:child_process';
import { EMPTY_INVENTORY, parseInventory } from './inventory.ts';
import type { Inventory } from './inventory.ts';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv (no shell), feeding `input` on stdin. */
export type CommandRunner = (argv: readonly string[], input?: string) => Promise<CommandResult>;

export const spawnCommand: CommandRunner = (argv, input) =>
  new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) {
      reject(new Error('empty command'));
      return;
    }
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    // The child may exit before reading all of stdin; its exit code tells.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(input ?? '');
  });

export class NftError extends Error {
  readonly stderr: string;
  readonly code: number;
  constructor(message: string, result: CommandResult) {
    super(`${message}: exit ${result.code}: ${result.stderr.trim().slice(0, 2000)}`);
    this.name = 'NftError';
    this.stderr = result.stderr;
    this.code = result.code;
  }
}

/** What a backend needs from nft. */
export interface NftRunner {
  apply(script: string): Promise<void>;
  readInventory(): Promise<Inventory>;
}

export interface NftExecutorOptions {
  readonly table?: string;
  /** Prepended to every command, e.g. ['ip', 'netns', 'exec', 'node1']. */
  readonly prefix?: readonly string[];
  readonly nft?: string;
  readonly run?: CommandRunner;
}

const MISSING_TABLE = /No such file or directory/;

export class NftExecutor implements NftRunner {
  readonly table: string;
  readonly #prefix: readonly string[];
  readonly #nft: string;
  readonly #run: CommandRunner;

  constructor(options: NftExecutorOptions = {}) {
    this.table = options.table ?? 'portico';
    this.#prefix = options.prefix ?? [];
    this.#nft = options.nft ?? 'nft';
    this.#run = options.run ?? spawnCommand;
  }

  #exec(args: readonly string[], input?: string): Promise<CommandResult> {
    return this.#run([...this.#prefix, this.#nft, ...args], input);
  }

  /** Applies `script` as one transaction: all of it or none of it. */
  async apply(script: string): Promise<void> {
    if (script === '') return;
    const r = await this.#exec(['-f', '-'], script);
    if (r.code !== 0) throw new NftError('nft -f - failed', r);
  }

  /** The JSON listing of the table, or null when the table does not exist. */
  async listTable(): Promise<unknown> {
    const r = await this.#exec(['-j', 'list', 'table', 'inet', this.table]);
    if (r.code !== 0) {
      if (MISSING_TABLE.test(r.stderr)) return null;
      throw new NftError(`nft list table inet ${this.table} failed`, r);
    }
    return JSON.parse(r.stdout) as unknown;
  }

  async readInventory(): Promise<Inventory> {
    const json = await this.listTable();
    return json === null ? EMPTY_INVENTORY : parseInventory(json, this.table);
  }

  /** Removes the table and everything in it (mode none, uninstall). Missing is fine. */
  async deleteTable(): Promise<void> {
    const r = await this.#exec(['delete', 'table', 'inet', this.table]);
    if (r.code !== 0 && !MISSING_TABLE.test(r.stderr)) throw new NftError(`nft delete table failed`, r);
  }
}
