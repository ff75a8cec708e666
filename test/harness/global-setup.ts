import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from './control-plane.ts';
import { PID_FILE_ENV } from './processes.ts';
import { SHARED_KUBECONFIG_ENV } from './shared.ts';

const holder = globalThis as { porticoControlPlane?: ControlPlane };

export default async function globalSetup(): Promise<void> {
  process.env[PID_FILE_ENV] = join(mkdtempSync(join(tmpdir(), 'portico-pids-')), 'pids');
  if (process.env.PORTICO_TEST_KUBECONFIG) {
    process.env[SHARED_KUBECONFIG_ENV] = process.env.PORTICO_TEST_KUBECONFIG;
    return;
  }
  const started = Date.now();
  const cp = await ControlPlane.start();
  holder.porticoControlPlane = cp;
  process.env[SHARED_KUBECONFIG_ENV] = cp.kubeconfigPath;
  process.stderr.write(`\nharness: control plane ready in ${Date.now() - started} ms (${cp.dir})\n`);
}
