// The converter on MetalLB's documented examples (original metallb.io
// apiVersions): every kind converts, nothing is reported unmappable, every
// output passes Portico's validators, and specs carry over field for field.
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { API_VERSION } from '../../../crds/index.ts';
import { renderOutput } from '../../../migrate/render.ts';
import { validators } from '../crd-validators.ts';
import { UPSTREAM, convertYaml, docs, find, issueLines } from './helpers.ts';

interface Source {
  kind: string;
  apiVersion: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}
const sources = docs(UPSTREAM) as Source[];

describe("migrate-metallb: MetalLB's documented examples", () => {
  const r = convertYaml(UPSTREAM);

  it('converts every object with nothing unmappable', () => {
    expect(r.complete).toBe(true);
    expect(issueLines(r.issues.filter((i) => i.severity === 'error'))).toEqual([]);
    expect(r.converted.map((c) => `${c.object.kind}/${c.object.metadata.name}`).sort()).toEqual(
      sources.map((s) => `${s.kind}/${s.metadata.name}`).sort(),
    );
  });

  it('writes portico.io/v1alpha1 objects in the target namespace that pass the validators', () => {
    for (const { object } of r.converted) {
      expect(object.apiVersion).toBe(API_VERSION);
      expect(object.metadata.namespace).toBe('portico-system');
      const v = validators[object.kind]!(object);
      expect(v.ok ? 'ok' : JSON.stringify(v.errors)).toBe('ok');
    }
    const other = convertYaml(UPSTREAM, { namespace: 'lb' });
    expect(other.converted.every((c) => c.object.metadata.namespace === 'lb')).toBe(true);
  });

  it('orders the output so that referenced objects come first', () => {
    const kinds = r.converted.map((c) => c.object.kind);
    const last = (k: string) => kinds.lastIndexOf(k);
    const first = (k: string) => kinds.indexOf(k);
    expect(last('BFDProfile')).toBeLessThan(first('BGPPeer'));
    expect(last('IPAddressPool')).toBeLessThan(first('L2Advertisement'));
    expect(last('BGPPeer')).toBeLessThan(first('BGPAdvertisement'));
  });

  it('carries pools, L2 and BGP advertisements, BFD profiles and communities over field for field', () => {
    for (const s of sources) {
      if (s.kind === 'BGPPeer') continue;
      expect({ kind: s.kind, name: s.metadata.name, spec: find(r, s.kind, s.metadata.name)?.spec }).toEqual({
        kind: s.kind,
        name: s.metadata.name,
        spec: s.spec ?? {},
      });
    }
  });

  it('keeps labels, which ipAddressPoolSelectors select pools by', () => {
    expect(find(r, 'IPAddressPool', 'bgp-pool')?.metadata.labels).toEqual({ announce: 'bgp' });
  });

  it('carries v1beta2 peers over, including dynamicASN, connectTime, bfdProfile and ebgpMultiHop', () => {
    for (const name of ['sample', 'peerv6', 'ebgp', 'dynamic']) {
      const src = sources.find((s) => s.kind === 'BGPPeer' && s.metadata.name === name)!;
      expect(find(r, 'BGPPeer', name)?.spec).toEqual(src.spec);
    }
  });

  it('reads a v1beta1 peer, whose peerPort 0 means the default port', () => {
    expect(find(r, 'BGPPeer', 'sample-v1beta1')?.spec).toEqual({
      myASN: 64500,
      peerASN: 64501,
      peerAddress: '10.0.0.2',
      holdTime: '90s',
      nodeSelectors: [
        {
          matchLabels: { rack: 'frontend' },
          matchExpressions: [{ key: 'network-speed', operator: 'NotIn', values: ['slow'] }],
        },
      ],
    });
  });

  it('treats peerPort 0 as the default port at v1beta2 too (a v1beta1 object read back unconverted)', () => {
    const r = convertYaml(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: zero-port, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.3, peerPort: 0, passwordSecret: {}}
`);
    expect(r.complete).toBe(true);
    expect(find(r, 'BGPPeer', 'zero-port')?.spec).toEqual({
      myASN: 64500,
      peerASN: 64501,
      peerAddress: '10.0.0.3',
    });
  });

  it('points passwordSecret at the Portico namespace and asks for the Secret to be copied', () => {
    expect(find(r, 'BGPPeer', 'peer-with-secret')?.spec.passwordSecret).toEqual({
      name: 'secretname',
      namespace: 'portico-system',
    });
    expect(issueLines(r.issues)).toEqual([
      expect.stringMatching(
        /^warning BGPPeer metallb-system\/peer-with-secret spec.passwordSecret: copy Secret metallb-system\/secretname .* into namespace portico-system/,
      ),
    ]);
  });

  it('renders multi-document YAML that parses back to the same objects', () => {
    const text = renderOutput(r);
    const back = docs(text);
    expect(back).toEqual(r.converted.map((c) => c.object));
    expect(parse(text.split('---\n')[1]!)).toEqual(r.converted[0]!.object);
  });
});
