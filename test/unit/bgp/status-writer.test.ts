// The status writer against an in-memory apiserver: it creates what the plan
// has, deletes this node's objects the plan lacks, and sends nothing when
// the cache already matches.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Informer } from '../../../lib/informer.ts';
import { createLogger } from '../../../lib/logger.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { planBgpStatus } from '../../../speaker/bgp/status-plan.ts';
import type { BgpStatusPlan } from '../../../speaker/bgp/status-plan.ts';
import { BgpStatusWriter } from '../../../speaker/bgp/status-writer.ts';
import type { StatusObject } from '../../../speaker/bgp/status-writer.ts';

const NS = 'portico-system';

/** One store per plural; the informers read it as a synced cache would. */
function fakeApi() {
  const stores = new Map<string, Map<string, StatusObject>>();
  const calls: string[] = [];
  let rv = 0;
  const parse = (path: string) => {
    const m = /\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?(\/status)?$/.exec(path);
    if (!m?.[1]) throw new Error(`bad path ${path}`);
    const store = stores.get(m[1]) ?? new Map<string, StatusObject>();
    stores.set(m[1], store);
    return { plural: m[1], name: m[2] ? decodeURIComponent(m[2]) : undefined, store };
  };
  const notFound = () => Object.assign(new Error('not found'), { statusCode: 404, code: 404 });
  const client = {
    getJson: async (path: string) => {
      const { store, name } = parse(path);
      const o = store.get(name ?? '');
      if (!o) throw notFound();
      return structuredClone(o);
    },
    postJson: async (path: string, body: StatusObject) => {
      const { store, plural } = parse(path);
      const name = body.metadata?.name ?? '';
      calls.push(`create ${plural}/${name}`);
      const o = { ...body, metadata: { ...body.metadata, namespace: NS, resourceVersion: String(++rv) } };
      store.set(name, o);
      return structuredClone(o);
    },
    putJson: async (path: string, body: StatusObject) => {
      const { store, plural, name } = parse(path);
      calls.push(`status ${plural}/${name ?? ''}`);
      const o = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      store.set(name ?? '', o);
      return structuredClone(o);
    },
    deleteJson: async (path: string) => {
      const { store, plural, name } = parse(path);
      calls.push(`delete ${plural}/${name ?? ''}`);
      if (!store.delete(name ?? '')) throw notFound();
      return {};
    },
  };
  const informer = (plural: string) =>
    ({
      hasSynced: () => true,
      list: () => [...(stores.get(plural)?.values() ?? [])],
      get: (key: string) => stores.get(plural)?.get(key.split('/')[1] ?? ''),
    }) as unknown as Informer<StatusObject>;
  return { stores, calls, client: client as unknown as RawKubeClient, informer };
}

const session = (peer: string, state: 'Established' | 'Active' = 'Established') => ({
  peer,
  peerAddress: '192.0.2.1',
  state,
  stateSince: 0,
  prefixesAnnounced: 1,
});

describe('BgpStatusWriter', () => {
  let writer: BgpStatusWriter | undefined;
  afterEach(async () => writer?.stop());

  const setup = (initial: Record<string, StatusObject[]> = {}) => {
    const api = fakeApi();
    for (const [plural, objs] of Object.entries(initial))
      api.stores.set(plural, new Map(objs.map((o) => [o.metadata?.name ?? '', o])));
    let plan: BgpStatusPlan | undefined;
    writer = new BgpStatusWriter({
      client: api.client,
      sessions: api.informer('bgpsessionstatuses'),
      services: api.informer('servicebgpstatuses'),
      namespace: NS,
      plan: () => plan,
      logger: createLogger({ level: 'silent' }),
    });
    return { api, setPlan: (p: BgpStatusPlan | undefined) => void (plan = p), writer };
  };

  it('writes nothing and deletes nothing before there is a plan', async () => {
    const stale = { metadata: { name: 'old.n1', namespace: NS } };
    const { api, writer: w } = setup({ bgpsessionstatuses: [stale] });
    await w.flush();
    expect(api.calls).toEqual([]);
  });

  it('creates planned objects, removes its stale ones at start, then writes only changes', async () => {
    const stale = { metadata: { name: 'old.n1', namespace: NS } };
    const staleSvc = { metadata: { name: 'default.gone.n1', namespace: NS } };
    const {
      api,
      setPlan,
      writer: w,
    } = setup({
      bgpsessionstatuses: [stale],
      servicebgpstatuses: [staleSvc],
    });
    const ann = { service: 'default/web', ip: '192.0.2.10', prefix: '192.0.2.10/32', peers: ['tor'] };
    setPlan(planBgpStatus('n1', [session('tor')], [ann], 'uid-1'));
    await w.flush();
    expect(api.calls).toEqual([
      'create bgpsessionstatuses/tor.n1',
      'status bgpsessionstatuses/tor.n1',
      'delete bgpsessionstatuses/old.n1',
      'create servicebgpstatuses/default.web.n1',
      'status servicebgpstatuses/default.web.n1',
      'delete servicebgpstatuses/default.gone.n1',
    ]);
    const created = api.stores.get('bgpsessionstatuses')?.get('tor.n1');
    expect(created?.status).toMatchObject({ state: 'Established' });
    expect(created?.metadata?.labels).toEqual({ 'portico.io/node': 'n1', 'portico.io/peer': 'tor' });
    expect(created?.metadata?.['ownerReferences']).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-1' },
    ]);

    api.calls.length = 0;
    await w.flush();
    expect(api.calls).toEqual([]);

    setPlan(planBgpStatus('n1', [session('tor', 'Active')], []));
    await w.flush();
    expect(api.calls).toEqual([
      'status bgpsessionstatuses/tor.n1',
      'delete servicebgpstatuses/default.web.n1',
    ]);
  });
});
