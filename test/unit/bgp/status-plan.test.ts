import { describe, expect, it } from '@jest/globals';
import { bgpSessionStatusStatusSchema } from '../../../crds/bgpsessionstatus.ts';
import { serviceBGPStatusStatusSchema } from '../../../crds/servicebgpstatus.ts';
import type { ServiceAnnouncement } from '../../../speaker/bgp/announce.ts';
import { objectNameOf, planBgpStatus } from '../../../speaker/bgp/status-plan.ts';
import type { SessionSnapshot } from '../../../speaker/bgp/status-plan.ts';

const T = Date.parse('2026-11-30T12:00:00.123Z');

const session = (peer: string, over: Partial<SessionSnapshot> = {}): SessionSnapshot => ({
  peer,
  peerAddress: '192.0.2.1',
  state: 'Established',
  stateSince: T,
  prefixesAnnounced: 2,
  ...over,
});

const ann = (service: string, prefix: string, peers: string[]): ServiceAnnouncement => ({
  service,
  ip: prefix.split('/')[0] ?? '',
  prefix,
  peers,
});

describe('planBgpStatus: sessions', () => {
  it('gives one object per peer, labelled with node and peer, with a valid status', () => {
    const plan = planBgpStatus('n1', [session('tor-b'), session('tor-a', { state: 'Active' })], []);
    expect(plan.sessions.map((s) => s.name)).toEqual(['tor-a.n1', 'tor-b.n1']);
    expect(plan.sessions[0]).toEqual({
      name: 'tor-a.n1',
      labels: { 'portico.io/node': 'n1', 'portico.io/peer': 'tor-a' },
      status: {
        node: 'n1',
        peer: 'tor-a',
        peerAddress: '192.0.2.1',
        state: 'Active',
        lastTransitionTime: '2026-11-30T12:00:00Z',
        bfd: 'none',
        prefixesAnnounced: 2,
      },
    });
    for (const s of plan.sessions)
      expect(bgpSessionStatusStatusSchema.safeParse(s.status).success).toBe(true);
  });

  it('shows the last error, and BFD Init/AdminDown as Down', () => {
    const plan = planBgpStatus(
      'n1',
      [
        session('a', { bfd: 'Up' }),
        session('b', { bfd: 'Init', lastError: 'received NOTIFICATION Cease (6/2)' }),
        session('c', { bfd: 'AdminDown' }),
        session('d', { bfd: 'Down', lastError: 'x'.repeat(5000) }),
      ],
      [],
    );
    expect(plan.sessions.map((s) => s.status.bfd)).toEqual(['Up', 'Down', 'Down', 'Down']);
    expect(plan.sessions[1]?.status.lastError).toBe('received NOTIFICATION Cease (6/2)');
    expect(plan.sessions[0]?.status).not.toHaveProperty('lastError');
    // Cut to what the CRD accepts rather than failing the write.
    expect(plan.sessions[3]?.status.lastError).toHaveLength(1024);
    for (const s of plan.sessions)
      expect(bgpSessionStatusStatusSchema.safeParse(s.status).success).toBe(true);
  });

  it('is empty without sessions', () => {
    expect(planBgpStatus('n1', [], [])).toEqual({ sessions: [], services: [] });
  });

  it('names the Node as owner when its uid is known, so the objects go with it', () => {
    expect(planBgpStatus('n1', [], [], 'uid-1').owner).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      name: 'n1',
      uid: 'uid-1',
    });
  });
});

describe('planBgpStatus: Services', () => {
  it('gives one object per Service with the union of its peers and prefixes', () => {
    const plan = planBgpStatus(
      'n1',
      [],
      [
        ann('default/web', '192.0.2.10/32', ['tor-b']),
        ann('default/web', '2001:db8::10/128', ['tor-a', 'tor-b']),
        ann('apps/api', '198.51.100.0/24', ['tor-a']),
      ],
    );
    expect(plan.services).toEqual([
      {
        name: 'apps.api.n1',
        labels: {
          'portico.io/node': 'n1',
          'portico.io/service-name': 'api',
          'portico.io/service-namespace': 'apps',
        },
        status: {
          node: 'n1',
          serviceName: 'api',
          serviceNamespace: 'apps',
          peers: ['tor-a'],
          prefixes: ['198.51.100.0/24'],
        },
      },
      {
        name: 'default.web.n1',
        labels: {
          'portico.io/node': 'n1',
          'portico.io/service-name': 'web',
          'portico.io/service-namespace': 'default',
        },
        status: {
          node: 'n1',
          serviceName: 'web',
          serviceNamespace: 'default',
          peers: ['tor-a', 'tor-b'],
          prefixes: ['192.0.2.10/32', '2001:db8::10/128'],
        },
      },
    ]);
    for (const s of plan.services)
      expect(serviceBGPStatusStatusSchema.safeParse(s.status).success).toBe(true);
  });

  it('has no object for a Service announced to no peer', () => {
    expect(planBgpStatus('n1', [], [ann('default/web', '192.0.2.10/32', [])]).services).toEqual([]);
  });
});

describe('objectNameOf', () => {
  it('is readable when it can be read only one way', () => {
    expect(objectNameOf('bgp', ['tor', 'node.example.com'])).toBe('tor.node.example.com');
  });

  it('hashes names that would be ambiguous or invalid', () => {
    // "a.b" on node "c" and "a" on node "b.c" must not share an object.
    const one = objectNameOf('bgp', ['a.b', 'c']);
    const two = objectNameOf('bgp', ['a', 'b.c']);
    expect(one).toMatch(/^bgp-[0-9a-f]{40}$/);
    expect(two).toBe('a.b.c');
    expect(one).not.toBe(two);
    expect(objectNameOf('bgp', ['Tor', 'n1'])).toMatch(/^bgp-/);
    expect(objectNameOf('bgp', ['x'.repeat(200), 'y'.repeat(60)])).toMatch(/^bgp-/);
  });
});
