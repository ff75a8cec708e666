import { describe, expect, it } from '@jest/globals';
import { trimForCache } from '../../../lib/list-watch.ts';

describe('trimForCache', () => {
  it('drops managedFields and keeps the rest of the object', () => {
    const obj = {
      metadata: {
        name: 'a',
        annotations: { x: 'y' },
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
      },
      spec: { type: 'LoadBalancer' },
    };
    expect(trimForCache(obj)).toEqual({
      metadata: { name: 'a', annotations: { x: 'y' } },
      spec: { type: 'LoadBalancer' },
    });
  });

  it('leaves objects without metadata or managedFields alone', () => {
    expect(trimForCache({ kind: 'Status' })).toEqual({ kind: 'Status' });
    expect(trimForCache({ metadata: { name: 'b' } })).toEqual({ metadata: { name: 'b' } });
    expect(trimForCache(undefined)).toBeUndefined();
  });
});
