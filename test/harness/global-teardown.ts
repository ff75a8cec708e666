import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ControlPlane } from './control-plane.ts';
import { killRecorded, PID_FILE_ENV } from './processes.ts';

const holder = globalThis as { porticoControlPlane?: ControlPlane };

export default async function globalTeardown(): Promise<void> {
  await holder.porticoControlPlane?.stop();
  holder.porticoControlPlane = undefined;
  // Anything a test started and lost track of (e.g. a timed-out beforeAll).
  const pidFile = process.env[PID_FILE_ENV];
  if (pidFile) {
    const killed = killRecorded(pidFile);
    if (killed > 0) process.stderr.write(`harness: ended ${killed} leftover process(es)\n`);
    rmSync(dirname(pidFile), { recursive: true, force: true });
  }
}
