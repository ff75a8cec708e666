// Runs ipvsadm and ip for the IPVS backend: batches in on stdin
// (`ipvsadm --restore`, `ip -batch -`), state read back (`ipvsadm -Sn`,
// `ipvsadm -Ln`, `ip -j addr`); and the companion rules, through `nft -f -`
// or `iptables-restore --noflush`. The command prefix is injectable, so tests
// run everything inside a network namespace.
import { NftError, spawnCommand } from '../nftables/executor.ts';
import type { CommandResult, CommandRunner } from '../nftables/executor.ts';

export interface IpvsExecutorOptions {
  /** Prepended to every command, e.g. ['ip', 'netns', 'exec', 'node1']. */
  readonly prefix?: readonly string[];
  readonly run?: CommandRunner;
}

export class CommandError extends Error {
  readonly stderr: string;
  constructor(what: string, r: CommandResult) {
    super(`${what}: exit ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
    this.name = 'CommandError';
    this.stderr = r.stderr;
  }
}

export class IpvsExecutor {
  readonly prefix: readonly string[];
  readonly run: CommandRunner;

  constructor(options: IpvsExecutorOptions = {}) {
    this.prefix = options.prefix ?? [];
    this.run = options.run ?? spawnCommand;
  }

  async #ok(argv: readonly string[], input?: string): Promise<string> {
    const r = await this.run([...this.prefix, ...argv], input);
    if (r.code !== 0) throw new CommandError(argv.join(' '), r);
    return r.stdout;
  }

  /** The virtual and real servers, in restore syntax, numeric. */
  save(): Promise<string> {
    return this.#ok(['ipvsadm', '-Sn']);
  }

  /** The listing with connection counts. */
  list(): Promise<string> {
    return this.#ok(['ipvsadm', '-Ln']);
  }

  async restore(text: string): Promise<void> {
    if (text !== '') await this.#ok(['ipvsadm', '--restore'], text);
  }

  async ipBatch(lines: readonly string[]): Promise<void> {
    if (lines.length) await this.#ok(['ip', '-batch', '-'], `${lines.join('\n')}\n`);
  }

  /** `ip -j addr show dev <device>`, or null when the device does not exist. */
  async addresses(device: string): Promise<unknown> {
    const r = await this.run([...this.prefix, 'ip', '-j', 'addr', 'show', 'dev', device]);
    if (r.code !== 0) {
      if (/does not exist|Cannot find device/.test(r.stderr)) return null;
      throw new CommandError(`ip addr show dev ${device}`, r);
    }
    return JSON.parse(r.stdout || '[]') as unknown;
  }

  async nft(script: string): Promise<void> {
    const r = await this.run([...this.prefix, 'nft', '-f', '-'], script);
    if (r.code !== 0) throw new NftError('nft -f - failed', r);
  }

  /** Runs argv, with a missing tool as a failed result instead of a rejection. */
  async #try(argv: readonly string[], input?: string): Promise<CommandResult> {
    try {
      return await this.run([...this.prefix, ...argv], input);
    } catch (err) {
      return { code: 127, stdout: '', stderr: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * `nft -c -f -` (checked by the kernel, nothing applied): null when the
   * kernel takes the script, else why not.
   */
  async nftCheck(script: string): Promise<string | null> {
    const r = await this.#try(['nft', '-c', '-f', '-'], script);
    return r.code === 0 ? null : r.stderr.trim() || `exit ${r.code}`;
  }

  /** `<save> -t <table>` (iptables-legacy-save and friends), or the failure. */
  async iptablesSave(tool: string, table: string): Promise<CommandResult> {
    return this.#try([tool, '-t', table]);
  }

  /** `<restore> -w 5 --noflush`, the script on stdin. */
  async iptablesRestore(tool: string, script: string): Promise<void> {
    if (script === '') return;
    const r = await this.#try([tool, '-w', '5', '--noflush'], script);
    if (r.code !== 0) throw new CommandError(`${tool} --noflush`, r);
  }
}
