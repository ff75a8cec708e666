import { describe, expect, it } from '@jest/globals';
import {
  applyBatch,
  diff,
  diffEndpoints,
  isEmptyBatch,
  touchedKeys,
} from '../../../speaker/dataplane/diff.ts';
import { EMPTY_STATE } from '../../../speaker/dataplane/types.ts';
import type { DesiredState, Endpoint, VirtualService } from '../../../speaker/dataplane/types.ts';
import { endpoint, model, service, slice, threePods } from './helpers.ts';

const WEB = { clusterIP: '192.0.2.10', ports: [{ name: 'http', port: 80 }] };
const base = model(
  [service('web', WEB), service('api', { clusterIP: '192.0.2.20', ports: [{ port: 443 }] })],
  [threePods()],
);
const ep = (ip: string, extra: Partial<Endpoint> = {}): Endpoint => ({
  ip,
  port: 8080,
  weight: 1,
  local: true,
  terminating: false,
  ...extra,
});
const vsWith = (state: DesiredState, key: string, change: Partial<VirtualService>): DesiredState => ({
  services: state.services.map((vs) => (vs.key === key ? { ...vs, ...change } : vs)),
});

describe('diff', () => {
  it('is empty for identical states', () => {
    expect(isEmptyBatch(diff(base, base))).toBe(true);
    expect(isEmptyBatch(diff(base, structuredClone(base)))).toBe(true);
  });

  it('adds everything against an empty observed state, removes everything against an empty desired one', () => {
    expect(diff(base, EMPTY_STATE)).toEqual({ add: base.services, update: [], remove: [] });
    expect(diff(EMPTY_STATE, base)).toEqual({ add: [], update: [], remove: base.services });
  });

  it('reports one changed endpoint and leaves the unchanged service out', () => {
    const desired = model(
      [service('web', WEB), service('api', { clusterIP: '192.0.2.20', ports: [{ port: 443 }] })],
      [
        slice(
          'web',
          [
            endpoint('198.51.100.11', { nodeName: 'node-1' }),
            endpoint('198.51.100.12', { ready: false, serving: true, terminating: true, nodeName: 'node-1' }),
            endpoint('198.51.100.14', { nodeName: 'node-1' }),
          ],
          [{ name: 'http', port: 8080 }],
        ),
      ],
    );
    const batch = diff(desired, base);
    expect(batch.add).toEqual([]);
    expect(batch.remove).toEqual([]);
    expect(batch.update).toHaveLength(1);
    const [u] = batch.update;
    expect(u?.service.key).toBe('TCP/192.0.2.10/80');
    expect(u?.attributesChanged).toBe(false);
    expect(u?.endpoints).toEqual({
      add: [ep('198.51.100.14')],
      update: [ep('198.51.100.12', { weight: 0, terminating: true })],
      remove: [ep('198.51.100.13')],
    });
    expect(touchedKeys(batch)).toEqual(new Set(['TCP/192.0.2.10/80']));
  });

  it.each<[string, Partial<VirtualService>]>([
    ['scheduler', { scheduler: 'mh' }],
    ['affinity on', { affinity: { timeoutSeconds: 10800 } }],
    ['externalLocal', { externalLocal: true }],
    ['internalLocal', { internalLocal: true }],
    ['noEndpoints', { noEndpoints: 'drop' }],
    ['service', { service: 'other/web' }],
  ])('flags an attribute change (%s) without endpoint changes', (_name, change) => {
    const desired = vsWith(base, 'TCP/192.0.2.10/80', change);
    const [u] = diff(desired, base).update;
    expect(u?.attributesChanged).toBe(true);
    expect(u?.endpoints).toEqual({ add: [], update: [], remove: [] });
  });

  it('sees an affinity timeout change', () => {
    const a = vsWith(base, 'TCP/192.0.2.10/80', { affinity: { timeoutSeconds: 60 } });
    const b = vsWith(base, 'TCP/192.0.2.10/80', { affinity: { timeoutSeconds: 61 } });
    expect(diff(a, b).update[0]?.attributesChanged).toBe(true);
    expect(isEmptyBatch(diff(a, structuredClone(a)))).toBe(true);
  });

  it('applyBatch turns observed into desired', () => {
    const desired = vsWith(base, 'TCP/192.0.2.20/443', { scheduler: 'lc' });
    expect(applyBatch(base, diff(desired, base))).toEqual(desired);
    expect(applyBatch(EMPTY_STATE, diff(base, EMPTY_STATE))).toEqual(base);
  });

  it('applyBatch refuses an update of a service the state does not have', () => {
    const batch = diff(vsWith(base, 'TCP/192.0.2.10/80', { scheduler: 'sh' }), base);
    expect(() => applyBatch(EMPTY_STATE, batch)).toThrow(/TCP\/192.0.2.10\/80/);
  });
});

describe('diffEndpoints', () => {
  it('matches by ip and port, not by position', () => {
    const a = [ep('198.51.100.1'), ep('198.51.100.2')];
    expect(diffEndpoints([...a].reverse(), a)).toEqual({ add: [], update: [], remove: [] });
    expect(diffEndpoints([ep('198.51.100.1', { port: 9090 })], a)).toEqual({
      add: [ep('198.51.100.1', { port: 9090 })],
      update: [],
      remove: a,
    });
  });
});
