// Applies crds/generated/*.yaml to a cluster and waits until each CRD is
// Established, so tests and the lab can create custom objects right away.
// It sends the YAML as plain JSON: client-node's typed CRD API would serialise
// it through its models, which drop keys like x-kubernetes-int-or-string.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { isNotFound } from '../../lib/errors.ts';
import { RawKubeClient } from '../../lib/raw-client.ts';
import { waitFor } from './processes.ts';

const generatedDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'crds', 'generated');
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface Crd {
  metadata: { name: string; resourceVersion?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

export function generatedCrds(): Crd[] {
  return readdirSync(generatedDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(join(generatedDir, f), 'utf8')) as Crd);
}

export async function installCrds(kc: KubeConfig): Promise<string[]> {
  const client = RawKubeClient.fromKubeConfig(kc);
  const names: string[] = [];
  for (const crd of generatedCrds()) {
    const name = crd.metadata.name;
    names.push(name);
    try {
      const existing = await client.getJson<Crd>(`${CRDS}/${name}`);
      const body = {
        ...crd,
        metadata: { ...crd.metadata, resourceVersion: existing.metadata.resourceVersion },
      };
      await client.putJson(`${CRDS}/${name}`, body);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await client.postJson(CRDS, crd);
    }
  }
  for (const name of names) {
    await waitFor(`CRD ${name} Established`, async () => {
      const crd = await client.getJson<Crd>(`${CRDS}/${name}`);
      return !!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
  return names;
}
