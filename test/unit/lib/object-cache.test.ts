import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ObjectCache, keyOf } from '../../../lib/object-cache.ts';
import type { CacheDelta, KubeObject } from '../../../lib/object-cache.ts';

type Obj = KubeObject & { data?: string };

function obj(name: string, rv: string, namespace = 'ns', uid = `uid-${name}`): Obj {
  return { metadata: { name, namespace, resourceVersion: rv, uid } };
}

function summary(deltas: CacheDelta<Obj>[]): string[] {
  return deltas.map((d) => `${d.type} ${keyOf(d.object)}@${d.object.metadata?.resourceVersion}`);
}

describe('ObjectCache', () => {
  it('keys by namespace/name, or name for cluster-scoped objects', () => {
    expect(keyOf(obj('a', '1'))).toBe('ns/a');
    expect(keyOf({ metadata: { name: 'node-1' } })).toBe('node-1');
  });

  it('turns watch events into add, update and delete', () => {
    const cache = new ObjectCache<Obj>();
    expect(cache.upsert(obj('a', '1'))).toEqual({ type: 'add', object: obj('a', '1') });
    expect(cache.upsert(obj('a', '2'))).toEqual({
      type: 'update',
      oldObject: obj('a', '1'),
      object: obj('a', '2'),
    });
    expect(cache.remove(obj('a', '3'))).toEqual({ type: 'delete', object: obj('a', '3') });
    expect(cache.size).toBe(0);
    expect(cache.remove(obj('a', '4'))).toBeUndefined();
  });

  it('ignores a replayed event with the same resourceVersion', () => {
    const cache = new ObjectCache<Obj>();
    cache.upsert(obj('a', '1'));
    expect(cache.upsert(obj('a', '1'))).toBeUndefined();
  });

  it('reports what changed between the cache and a relist', () => {
    const cache = new ObjectCache<Obj>();
    cache.replace([obj('keep', '1'), obj('change', '1'), obj('gone', '1')]);
    const deltas = cache.replace([obj('keep', '1'), obj('change', '5'), obj('new', '6')]);
    expect(summary(deltas)).toEqual(['delete ns/gone@1', 'update ns/change@5', 'add ns/new@6']);
    expect(cache.keys().sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
  });

  it('reports an object recreated under the same name as delete then add', () => {
    const cache = new ObjectCache<Obj>();
    cache.replace([obj('a', '1', 'ns', 'uid-1')]);
    const deltas = cache.replace([obj('a', '9', 'ns', 'uid-2')]);
    expect(summary(deltas)).toEqual(['delete ns/a@1', 'add ns/a@9']);
  });

  it('property: replaying the relist deltas onto the old state yields the new state', () => {
    const state = fc.dictionary(
      fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      fc.record({ rv: fc.constantFrom('1', '2', '3'), uid: fc.constantFrom('u1', 'u2') }),
    );
    fc.assert(
      fc.property(state, state, (before, after) => {
        const toList = (s: typeof before) => Object.entries(s).map(([n, v]) => obj(n, v.rv, 'ns', v.uid));
        const cache = new ObjectCache<Obj>();
        cache.replace(toList(before));
        const mirror = new Map(toList(before).map((o) => [keyOf(o), o]));
        for (const d of cache.replace(toList(after))) {
          const key = keyOf(d.object);
          if (d.type === 'delete') {
            expect(mirror.has(key)).toBe(true);
            mirror.delete(key);
          } else if (d.type === 'add') {
            expect(mirror.has(key)).toBe(false);
            mirror.set(key, d.object);
          } else {
            expect(mirror.get(key)).toEqual(d.oldObject);
            mirror.set(key, d.object);
          }
        }
        const expected = new Map(toList(after).map((o) => [keyOf(o), o]));
        expect(new Map([...mirror].sort())).toEqual(new Map([...expected].sort()));
        expect(new Map(cache.list().map((o) => [keyOf(o), o]))).toEqual(expected);
      }),
    );
  });
});
