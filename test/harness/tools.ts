// The CLIs tests drive: helm (built from its Go module and cached) and the
// kubectl built with the control plane.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveBinDir } from './control-plane.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');

let helmPath: string | undefined;
export function helmBinary(): string {
  helmPath ??=
    process.env.PORTICO_HELM ??
    execFileSync('bash', [join(here, 'build-helm.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .pop()!;
  return helmPath;
}

export function kubectlBinary(): string {
  return join(resolveBinDir(), 'kubectl');
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], input?: string): RunResult {
  const r = spawnSync(bin, args, { encoding: 'utf8', input, cwd: repoRoot, maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
