import { describe, expect, it } from '@jest/globals';
import { PickLedger } from '../../../operator/controllers/audit/collisions.ts';
import type { Pick } from '../../../operator/controllers/audit/collisions.ts';

const pick = (owner: string, value = '10.96.0.200', field: Pick['field'] = 'clusterIP'): Pick => ({
  owner,
  field,
  value,
  pool: 'tenant',
});

describe('PickLedger', () => {
  it('confirms a pick when its own Service shows up holding it', () => {
    const l = new PickLedger(30_000, () => 0);
    l.record([pick('ns/a')]);
    expect(l.observe('ns/a', 'clusterIP', ['10.96.0.200'])).toEqual([]);
    expect(l.size).toBe(0);
  });

  it('reports a collision when another object shows up holding the pick', () => {
    const l = new PickLedger(30_000, () => 0);
    l.record([pick('ns/a'), pick('ns/a', '31000', 'nodePort')]);
    expect(l.observe('ns/b', 'clusterIP', ['10.96.0.200'])).toEqual([pick('ns/a')]);
    // A port with the same text is a different field.
    expect(l.observe('ns/b', 'clusterIP', ['31000'])).toEqual([]);
    expect(l.size).toBe(1);
  });

  it('on a second CREATE, counts earlier picks another object holds and keeps unheld ones', () => {
    const l = new PickLedger(30_000, () => 0);
    l.record([pick('ns/a', '10.96.0.200'), pick('ns/a', '10.96.0.201'), pick('ns/c', '10.96.0.202')]);
    const holders = new Map([['10.96.0.200', 'ns/b']]);
    expect(l.recheck('ns/a', (_f, v) => holders.get(v))).toEqual([pick('ns/a', '10.96.0.200')]);
    expect(l.size).toBe(2);
    holders.set('10.96.0.201', 'ns/a');
    expect(l.recheck('ns/a', (_f, v) => holders.get(v))).toEqual([]);
    expect(l.size).toBe(1);
  });

  it('forgets picks after the hold time', () => {
    let now = 0;
    const l = new PickLedger(30_000, () => now);
    l.record([pick('ns/a')]);
    now = 30_000;
    expect(l.observe('ns/b', 'clusterIP', ['10.96.0.200'])).toEqual([]);
    expect(l.size).toBe(0);
  });
});
