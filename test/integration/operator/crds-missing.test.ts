// Without its CRDs the operator must stop at once with an error that names
// what is missing, not crash later on a 404.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane } from '../../harness/control-plane.ts';
import { startOperator } from '../../harness/operator-process.ts';

describe('operator: missing CRDs', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await ControlPlane.start({ controllerManager: false });
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('exits with status 1 and names the missing CRDs and how to install them', async () => {
    const logFile = join(cp.dir, 'operator.log');
    const op = await startOperator({ kubeconfig: cp.kubeconfigPath, namespace: 'portico-system', logFile });
    const code = await new Promise<number | null>((resolve) => op.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toMatch(/ipaddresspools\.portico\.io/);
    expect(log).toMatch(/crds\/generated/);
  });
});
