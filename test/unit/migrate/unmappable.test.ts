// What the converter cannot map is reported with the object and the field,
// never dropped silently: fields Portico lacks, references to objects that
// were not converted, values Portico rejects, settings its speaker refuses,
// kinds without an equivalent, and clashing names.
import { describe, expect, it } from '@jest/globals';
import { convertYaml, find, issueLines } from './helpers.ts';

const errors = (yamlText: string) =>
  issueLines(convertYaml(yamlText).issues.filter((i) => i.severity === 'error'));

describe('migrate-metallb: what cannot be mapped', () => {
  it('reports a field Portico lacks, at any depth, and converts the rest', () => {
    const r = convertYaml(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec:
  addresses: [10.0.0.0/24]
  futureField: 1
  serviceAllocation:
    priority: 1
    weight: 3
`);
    expect(r.complete).toBe(false);
    expect(issueLines(r.issues)).toEqual([
      "error IPAddressPool metallb-system/p spec.futureField: Portico's IPAddressPool has no such field; left out",
      "error IPAddressPool metallb-system/p spec.serviceAllocation.weight: Portico's IPAddressPool has no such field; left out",
    ]);
    expect(find(r, 'IPAddressPool', 'p')?.spec).toEqual({
      addresses: ['10.0.0.0/24'],
      serviceAllocation: { priority: 1 },
    });
  });

  it('reports references to pools, peers, BFD profiles and community aliases that were not converted', () => {
    expect(
      errors(`
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: adv, namespace: metallb-system}
spec:
  ipAddressPools: [missing-pool]
  peers: [missing-peer]
  communities: [NO_EXPORT, "65535:65281"]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [other-pool]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: peer, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 10.0.0.1, bfdProfile: missing-bfd}
`),
    ).toEqual([
      'error BGPPeer metallb-system/peer spec.bfdProfile: BFDProfile "missing-bfd" is not among the converted objects',
      'error L2Advertisement metallb-system/l2 spec.ipAddressPools[0]: IPAddressPool "other-pool" is not among the converted objects',
      'error BGPAdvertisement metallb-system/adv spec.ipAddressPools[0]: IPAddressPool "missing-pool" is not among the converted objects',
      'error BGPAdvertisement metallb-system/adv spec.peers[0]: BGPPeer "missing-peer" is not among the converted objects',
      'error BGPAdvertisement metallb-system/adv spec.communities[0]: "NO_EXPORT" is neither a community value nor an alias defined by a converted Community',
    ]);
  });

  it('leaves out an object Portico would reject, naming each bad field', () => {
    const r = convertYaml(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: bad, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 10.0.0.1, holdTime: 1s}
`);
    expect(find(r, 'BGPPeer', 'bad')).toBeUndefined();
    expect(issueLines(r.issues)).toEqual([
      'error BGPPeer metallb-system/bad spec.holdTime: hold time must be 0 or between 3s and 65535s (Portico rejects it; not converted)',
    ]);
  });

  it("converts vrf and interface peers but reports that Portico's speaker will not start them", () => {
    const r = convertYaml(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: vrf, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 10.0.0.1, vrf: red}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: unnumbered, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, interface: eth1}
`);
    expect(find(r, 'BGPPeer', 'vrf')?.spec.vrf).toBe('red');
    expect(find(r, 'BGPPeer', 'unnumbered')?.spec.interface).toBe('eth1');
    expect(issueLines(r.issues)).toEqual([
      expect.stringMatching(
        /^error BGPPeer metallb-system\/vrf spec.vrf: Portico's speaker does not peer from a VRF/,
      ),
      expect.stringMatching(/^error BGPPeer metallb-system\/unnumbered spec.interface: .* unnumbered BGP/),
    ]);
  });

  it('flags BFD settings the speaker does not act on without failing the conversion', () => {
    const r = convertYaml(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: echo, namespace: metallb-system}
spec: {echoMode: true, minimumTtl: 10}
`);
    expect(r.complete).toBe(true);
    expect(issueLines(r.issues)).toEqual([
      expect.stringMatching(/^warning BFDProfile metallb-system\/echo spec.echoMode: .*echo packets/),
      expect.stringMatching(/^warning BFDProfile metallb-system\/echo spec.minimumTtl: /),
    ]);
  });

  it('reports kinds without an equivalent, skips MetalLB state and names what else it ignored', () => {
    const r = convertYaml(`
apiVersion: metallb.io/v1beta1
kind: FancyThing
metadata: {name: x, namespace: metallb-system}
---
apiVersion: metallb.io/v1beta1
kind: ServiceL2Status
metadata: {name: l2-abc, namespace: metallb-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: metallb-system}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {namespace: metallb-system}
spec: {addresses: [10.0.0.0/24]}
`);
    expect(issueLines(r.issues)).toEqual([
      'error FancyThing metallb-system/x: Portico has no equivalent of metallb.io/v1beta1 FancyThing',
      'warning ServiceL2Status metallb-system/l2-abc: state written by MetalLB, not configuration: not converted',
      'warning Deployment metallb-system/controller: apps/v1 Deployment is neither MetalLB configuration nor a Service: ignored',
      'error IPAddressPool metallb-system/<unnamed> metadata.name: missing: the object cannot be converted',
    ]);
    expect(r.converted).toEqual([]);
  });

  it('keeps the first of two different objects that land on one name, and merges identical copies', () => {
    const pool = (ns: string, cidr: string) => `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: ${ns}}
spec: {addresses: [${cidr}]}
`;
    const same = convertYaml(`${pool('a', '10.0.0.0/24')}---${pool('a', '10.0.0.0/24')}`);
    expect(same.converted).toHaveLength(1);
    expect(same.complete).toBe(true);
    const r = convertYaml(`${pool('a', '10.0.0.0/24')}---${pool('b', '10.1.0.0/24')}`);
    expect(r.converted.map((c) => c.object.spec.addresses)).toEqual([['10.0.0.0/24']]);
    expect(issueLines(r.issues)).toEqual([
      expect.stringMatching(/^warning input: objects come from several namespaces \(a, b\)/),
      'error IPAddressPool b/p metadata.name: IPAddressPool/p was already made from IPAddressPool a/p; this one is left out',
    ]);
  });
});
