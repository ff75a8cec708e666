import { describe, expect, it } from '@jest/globals';
import { enqueueHandlers } from '../../../lib/enqueue.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';

const obj = (name: string, pool?: string): KubeObject & { pool?: string } => ({
  metadata: { name, namespace: 'ns' },
  ...(pool ? { pool } : {}),
});

describe('enqueueHandlers', () => {
  it('enqueues the object key for every kind of change', () => {
    const keys: string[] = [];
    const h = enqueueHandlers({ add: (k) => keys.push(k) });
    h.add?.(obj('a'));
    h.update?.(obj('a'), obj('a'));
    h.delete?.(obj('b'));
    expect(keys).toEqual(['ns/a', 'ns/a', 'ns/a', 'ns/b']);
  });

  it('maps objects to other keys, old and new on update', () => {
    const keys: string[] = [];
    const h = enqueueHandlers<KubeObject & { pool?: string }>({ add: (k) => keys.push(k) }, (o) =>
      o.pool ? [o.pool] : [],
    );
    h.update?.(obj('svc', 'pool-1'), obj('svc', 'pool-2'));
    h.add?.(obj('other'));
    expect(keys).toEqual(['pool-1', 'pool-2']);
  });
});
