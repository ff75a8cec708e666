// Minimal metallb.io CRDs for the cluster-mode test: the kinds and versions
// MetalLB serves, with a permissive schema (MetalLB's own validation is not
// what is under test, only that the command reads what is stored).
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { isAlreadyExists } from '../../../lib/errors.ts';
import { waitFor } from '../../harness/processes.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** kind, plural, served versions (the last one is stored). */
const KINDS: [string, string, string[]][] = [
  ['IPAddressPool', 'ipaddresspools', ['v1beta1']],
  ['L2Advertisement', 'l2advertisements', ['v1beta1']],
  ['BGPAdvertisement', 'bgpadvertisements', ['v1beta1']],
  ['BGPPeer', 'bgppeers', ['v1beta1', 'v1beta2']],
  ['BFDProfile', 'bfdprofiles', ['v1beta1']],
  ['Community', 'communities', ['v1beta1']],
];

export async function installMetalLBCrds(client: RawKubeClient): Promise<void> {
  for (const [kind, plural, versions] of KINDS) {
    const name = `${plural}.metallb.io`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: {
        group: 'metallb.io',
        scope: 'Namespaced',
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: versions.map((v, i) => ({
          name: v,
          served: true,
          storage: i === versions.length - 1,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        })),
      },
    };
    await client.postJson(CRDS, crd).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
    await waitFor(`CRD ${name} Established`, async () => {
      const got = await client.getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `${CRDS}/${name}`,
      );
      return !!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

/** Removes them again, so later tests see an apiserver without metallb.io. */
export async function removeMetalLBCrds(client: RawKubeClient): Promise<void> {
  for (const [, plural] of KINDS) {
    await client.deleteJson(`${CRDS}/${plural}.metallb.io`).catch(() => undefined);
  }
}
