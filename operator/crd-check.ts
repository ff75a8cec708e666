// The operator refuses to start without its CRDs, with an error that says
// which are missing and how to install them, instead of failing later on a 404.
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { ALL_CRDS } from '../crds/index.ts';
import { isNotFound } from '../lib/errors.ts';

export class MissingCrdsError extends Error {
  readonly missing: string[];
  constructor(missing: string[]) {
    super(
      `Portico's CRDs are not installed: ${missing.join(', ')}. ` +
        'Install the Helm chart, or apply crds/generated/*.yaml with kubectl apply --server-side.',
    );
    this.missing = missing;
  }
}

/** Resolves when every CRD is present and serves our version; throws MissingCrdsError otherwise. */
export async function checkCrdsInstalled(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const missing: string[] = [];
  for (const crd of ALL_CRDS) {
    try {
      const found = await api.readCustomResourceDefinition({ name: crd.name });
      const served = found.spec.versions.some((v) => v.name === crd.version && v.served);
      if (!served) missing.push(`${crd.name} (version ${crd.version} not served)`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      missing.push(crd.name);
    }
  }
  if (missing.length > 0) throw new MissingCrdsError(missing);
}
