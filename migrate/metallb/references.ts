// Cross-object references among the converted objects: pools named by
// advertisements, peers named by BGPAdvertisements, BFD profiles named by
// peers, and community aliases. MetalLB tolerates some dangling names (it
// ignores them); they are reported all the same, since the object they meant
// was not part of the input. Pure.
import { parseCommunity } from '../../crds/index.ts';
import type { Converted, Issues } from './report.ts';

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

export function checkReferences(converted: readonly Converted[], issues: Issues): void {
  const names = (kind: string) =>
    new Set(converted.filter((c) => c.object.kind === kind).map((c) => c.object.metadata.name));
  const pools = names('IPAddressPool');
  const peers = names('BGPPeer');
  const bfd = names('BFDProfile');
  const aliases = new Set(
    converted
      .filter((c) => c.object.kind === 'Community')
      .flatMap((c) => (Array.isArray(c.object.spec.communities) ? c.object.spec.communities : []))
      .map((a: { name?: unknown }) => a.name),
  );
  for (const { object: o, from, fieldPrefix } of converted) {
    // Reported where the source has the field (`spec.x`, or the legacy ConfigMap path).
    const at = (field: string) =>
      fieldPrefix === undefined ? field : `${fieldPrefix}${field.slice('spec'.length)}`;
    const missing = (field: string, kind: string, name: string) =>
      issues.error(from, at(field), `${kind} "${name}" is not among the converted objects`);
    if (o.kind === 'L2Advertisement' || o.kind === 'BGPAdvertisement') {
      strings(o.spec.ipAddressPools).forEach((p, i) => {
        if (!pools.has(p)) missing(`spec.ipAddressPools[${i}]`, 'IPAddressPool', p);
      });
    }
    if (o.kind === 'BGPAdvertisement') {
      strings(o.spec.peers).forEach((p, i) => {
        if (!peers.has(p)) missing(`spec.peers[${i}]`, 'BGPPeer', p);
      });
      strings(o.spec.communities).forEach((c, i) => {
        if (parseCommunity(c) === undefined && !aliases.has(c)) {
          issues.error(
            from,
            at(`spec.communities[${i}]`),
            `"${c}" is neither a community value nor an alias defined by a converted Community`,
          );
        }
      });
    }
    if (o.kind === 'BGPPeer' && typeof o.spec.bfdProfile === 'string' && !bfd.has(o.spec.bfdProfile)) {
      missing('spec.bfdProfile', 'BFDProfile', o.spec.bfdProfile);
    }
  }
}
