import { describe, expect, it } from '@jest/globals';
import { NftError, NftExecutor, spawnCommand } from '../../../../speaker/dataplane/nftables/executor.ts';
import type { CommandResult, CommandRunner } from '../../../../speaker/dataplane/nftables/executor.ts';

function fakeRunner(reply: (argv: readonly string[]) => CommandResult) {
  const calls: { argv: readonly string[]; input: string | undefined }[] = [];
  const run: CommandRunner = async (argv, input) => {
    calls.push({ argv, input });
    return reply(argv);
  };
  return { run, calls };
}
const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
const missing: CommandResult = {
  code: 1,
  stdout: '',
  stderr: 'Error: No such file or directory\nlist table inet portico\n',
};

describe('NftExecutor', () => {
  it('feeds the script to `nft -f -` on stdin, behind the injected prefix', async () => {
    const { run, calls } = fakeRunner(() => ok());
    const ex = new NftExecutor({ prefix: ['ip', 'netns', 'exec', 'n1'], run });
    await ex.apply('add table inet portico\n');
    expect(calls).toEqual([
      { argv: ['ip', 'netns', 'exec', 'n1', 'nft', '-f', '-'], input: 'add table inet portico\n' },
    ]);
  });

  it('does not run nft for an empty script', async () => {
    const { run, calls } = fakeRunner(() => ok());
    await new NftExecutor({ run }).apply('');
    expect(calls).toEqual([]);
  });

  it('throws NftError with nft stderr when the transaction fails', async () => {
    const { run } = fakeRunner(() => ({
      code: 1,
      stdout: '',
      stderr: 'Error: Could not process rule: File exists',
    }));
    const err = await new NftExecutor({ run }).apply('x\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftError);
    expect((err as NftError).message).toMatch(/exit 1: Error: Could not process rule: File exists/);
    expect((err as NftError).code).toBe(1);
  });

  it('reads the table as JSON, and a missing table as an empty inventory', async () => {
    const json = JSON.stringify({ nftables: [{ table: { family: 'inet', name: 't', handle: 1 } }] });
    const { run, calls } = fakeRunner(() => ok(json));
    const inv = await new NftExecutor({ table: 't', nft: '/usr/sbin/nft', run }).readInventory();
    expect(inv.tableExists).toBe(true);
    expect(calls[0]?.argv).toEqual(['/usr/sbin/nft', '-j', 'list', 'table', 'inet', 't']);
    const gone = await new NftExecutor({ run: fakeRunner(() => missing).run }).readInventory();
    expect(gone.tableExists).toBe(false);
  });

  it('reports other read failures', async () => {
    const { run } = fakeRunner(() => ({ code: 1, stdout: '', stderr: 'Error: Operation not permitted' }));
    await expect(new NftExecutor({ run }).readInventory()).rejects.toThrow(/Operation not permitted/);
  });

  it('deletes the table, and a missing table is fine', async () => {
    const { run, calls } = fakeRunner(() => missing);
    await new NftExecutor({ run }).deleteTable();
    expect(calls[0]?.argv).toEqual(['nft', 'delete', 'table', 'inet', 'portico']);
    const denied = fakeRunner(() => ({ code: 1, stdout: '', stderr: 'Error: Operation not permitted' }));
    await expect(new NftExecutor({ run: denied.run }).deleteTable()).rejects.toThrow(NftError);
  });
});

describe('spawnCommand', () => {
  it('runs a program with stdin and collects its output and exit code', async () => {
    const r = await spawnCommand(
      [process.execPath, '-e', 'process.stdin.pipe(process.stdout); process.exitCode = 3'],
      'hi',
    );
    expect(r).toEqual({ code: 3, stdout: 'hi', stderr: '' });
  });

  it('rejects when the program cannot start, and on an empty argv', async () => {
    await expect(spawnCommand(['/nonexistent/portico-nft'])).rejects.toThrow(/ENOENT/);
    await expect(spawnCommand([])).rejects.toThrow(/empty command/);
  });
});
