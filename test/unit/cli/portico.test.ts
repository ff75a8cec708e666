// The `portico` command as a user runs it: bin/portico (the bash wrapper that
// finds the pinned Node) started as a child process from outside the checkout.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { COMMANDS } from '../../../cli/portico.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(repoRoot, 'bin', 'portico');

describe('portico', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // From the temp dir, so the wrapper must find the repository by itself; without
  // Jest's NODE_OPTIONS (--experimental-vm-modules), as a user's shell would run it.
  const portico = (...args: string[]) =>
    spawnSync(bin, args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });

  it('lists its commands for help and with no arguments, exiting 0', () => {
    for (const args of [['help'], ['--help'], []]) {
      const r = portico(...args);
      expect(r.status).toBe(0);
      const names = new Set(['migrate-metallb', 'operator', 'speaker', ...COMMANDS.map(([name]) => name)]);
      for (const name of names) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
      expect(r.stderr).toBe('');
    }
  });

  it('exits 2 on an unknown command, naming it', () => {
    const r = portico('migrate-metalb', '--from-file', 'x.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "migrate-metalb"');
    expect(r.stdout).toBe('');
  });

  it('prints the version from package.json', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const r = portico('version');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('migrate-metallb converts a MetalLB IPAddressPool to a portico.io one on stdout', () => {
    const file = join(dir, 'metallb.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: metallb.io/v1beta1',
        'kind: IPAddressPool',
        'metadata:',
        '  name: first-pool',
        '  namespace: metallb-system',
        'spec:',
        '  addresses:',
        '    - 192.168.10.0/24',
        '    - fc00:f853:0ccd:e799::/124',
        '',
      ].join('\n'),
    );
    const r = portico('migrate-metallb', '--from-file', file);
    expect(r.stderr).toContain('Everything mapped.');
    expect(r.status).toBe(0);
    const objects = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as unknown)
      .filter((o) => o !== null);
    expect(objects).toEqual([
      {
        apiVersion: 'portico.io/v1alpha1',
        kind: 'IPAddressPool',
        metadata: { name: 'first-pool', namespace: 'portico-system' },
        spec: { addresses: ['192.168.10.0/24', 'fc00:f853:0ccd:e799::/124'] },
      },
    ]);
  });

  it('passes the rest of the arguments to migrate-metallb, bad usage included', () => {
    const r = portico('migrate-metallb', '--bogus');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bogus');
    expect(r.stderr).toContain('usage: portico migrate-metallb');
  });
});
