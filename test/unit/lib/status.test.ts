import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import { setCondition } from '../../../lib/conditions.ts';
import type { Condition } from '../../../lib/conditions.ts';
import { updateStatus } from '../../../lib/status.ts';
import type { StatusClient } from '../../../lib/status.ts';

interface Pool {
  metadata: { name: string; namespace: string; resourceVersion: string; generation: number };
  spec: { addresses: string[] };
  status?: { assigned?: number; conditions?: Condition[] };
}

const ref = { group: 'portico.io', version: 'v1alpha1', plural: 'ipaddresspools', namespace: 'p', name: 'a' };

/** One stored object with resourceVersion checks on the status subresource. */
class FakeStore implements StatusClient {
  obj: Pool = {
    metadata: { name: 'a', namespace: 'p', resourceVersion: '1', generation: 1 },
    spec: { addresses: ['10.0.0.0/24'] },
  };
  puts: string[] = [];
  gets = 0;
  beforePut: (() => void) | undefined;

  async getJson<T>(path: string): Promise<T> {
    expect(path).toBe('/apis/portico.io/v1alpha1/namespaces/p/ipaddresspools/a');
    this.gets++;
    return structuredClone(this.obj) as T;
  }

  async putJson<T>(path: string, body: unknown): Promise<T> {
    expect(path).toBe('/apis/portico.io/v1alpha1/namespaces/p/ipaddresspools/a/status');
    this.beforePut?.();
    const sent = body as Pool;
    this.puts.push(sent.metadata.resourceVersion);
    if (sent.metadata.resourceVersion !== this.obj.metadata.resourceVersion) {
      throw new ApiException(
        409,
        'Conflict',
        JSON.stringify({ kind: 'Status', code: 409, reason: 'Conflict' }),
        {},
      );
    }
    // The status subresource ignores spec changes.
    this.obj = {
      ...this.obj,
      status: sent.status,
      metadata: { ...this.obj.metadata, resourceVersion: this.bump() },
    };
    return structuredClone(this.obj) as T;
  }

  bump(): string {
    return String(Number(this.obj.metadata.resourceVersion) + 1);
  }
}

const countUp = (p: Pool): Pool => ({
  ...p,
  status: { ...p.status, assigned: (p.status?.assigned ?? 0) + 1 },
});

describe('updateStatus', () => {
  it('writes the mutated status with the resourceVersion it read', async () => {
    const store = new FakeStore();
    const result = await updateStatus(store, ref, countUp);
    expect(result).toMatchObject({ written: true, attempts: 1 });
    expect(store.puts).toEqual(['1']);
    expect(store.obj.status?.assigned).toBe(1);
    expect(result.object.metadata.resourceVersion).toBe('2');
  });

  it('on 409 re-reads and re-applies the mutation to the fresh object', async () => {
    const store = new FakeStore();
    let raced = false;
    store.beforePut = () => {
      if (raced) return;
      raced = true;
      // Another writer gets in between our read and our write.
      store.obj = {
        ...store.obj,
        status: { assigned: 10 },
        metadata: { ...store.obj.metadata, resourceVersion: store.bump() },
      };
    };
    const result = await updateStatus(store, ref, countUp);
    expect(result).toMatchObject({ written: true, attempts: 2 });
    expect(store.puts).toEqual(['1', '2']);
    expect(store.obj.status?.assigned).toBe(11);
  });

  it('gives up after maxAttempts conflicts', async () => {
    const store = new FakeStore();
    store.beforePut = () => {
      store.obj = { ...store.obj, metadata: { ...store.obj.metadata, resourceVersion: store.bump() } };
    };
    await expect(updateStatus(store, ref, countUp, { maxAttempts: 3 })).rejects.toMatchObject({ code: 409 });
    expect(store.puts).toHaveLength(3);
  });

  it('skips the write when the status would not change', async () => {
    const store = new FakeStore();
    const ready = (p: Pool): Pool => ({
      ...p,
      status: {
        ...p.status,
        conditions: setCondition(
          p.status?.conditions,
          { type: 'Ready', status: 'True', reason: 'Valid' },
          { observedGeneration: p.metadata.generation },
        ),
      },
    });
    await updateStatus(store, ref, ready);
    const again = await updateStatus(store, ref, ready);
    expect(again).toMatchObject({ written: false, attempts: 1 });
    expect(store.puts).toHaveLength(1);
  });

  it('hands mutate a private copy and uses a copy given by the caller', async () => {
    const store = new FakeStore();
    const current = structuredClone(store.obj);
    await updateStatus(
      store,
      ref,
      (p) => {
        p.status = { assigned: 5 };
        return p;
      },
      { current },
    );
    expect(current.status).toBeUndefined();
    expect(store.gets).toBe(0);
    expect(store.obj.status?.assigned).toBe(5);
  });
});
