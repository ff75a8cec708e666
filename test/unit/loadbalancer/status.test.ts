import { describe, expect, it } from '@jest/globals';
import {
  ALLOCATED_CONDITION,
  allocatedCondition,
  applyStatus,
  failedCondition,
  statusDiffers,
} from '../../../operator/controllers/loadbalancer/status.ts';
import { svc } from './helpers.ts';

const NOW = Date.parse('2026-06-01T00:00:00Z');

describe('Service status', () => {
  it('publishes the addresses as VIP ingress with a True condition', () => {
    const out = applyStatus(
      svc('a'),
      { ips: ['10.0.0.1'], condition: allocatedCondition(['10.0.0.1'], 'p') },
      NOW,
    );
    expect(out.status?.loadBalancer?.ingress).toEqual([{ ip: '10.0.0.1', ipMode: 'VIP' }]);
    expect(out.status?.conditions).toEqual([
      {
        type: ALLOCATED_CONDITION,
        status: 'True',
        reason: 'IPAllocated',
        message: '10.0.0.1 from IPAddressPool "p"',
        lastTransitionTime: '2026-06-01T00:00:00Z',
      },
    ]);
  });

  it('clears the ingress on failure and says why', () => {
    const out = applyStatus(
      svc('a', { ingress: ['10.0.0.1'] }),
      { ips: [], condition: failedCondition('PoolExhausted', 'no free IPv4 address') },
      NOW,
    );
    expect(out.status?.loadBalancer).toEqual({});
    expect(out.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'PoolExhausted' });
  });

  it('removes only its own condition when the Service is no longer ours', () => {
    const s = svc('a', { ingress: ['10.0.0.1'] });
    s.status!.conditions = [
      { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
      {
        type: ALLOCATED_CONDITION,
        status: 'True',
        reason: 'IPAllocated',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ];
    const out = applyStatus(s, { ips: [], condition: undefined }, NOW);
    expect(out.status?.conditions?.map((c) => c.type)).toEqual(['Other']);
  });

  it('sees no difference when the status already matches', () => {
    const desired = { ips: ['10.0.0.1'], condition: allocatedCondition(['10.0.0.1'], 'p') };
    const written = applyStatus(svc('a'), desired, NOW);
    expect(statusDiffers(written, desired)).toBe(false);
    expect(statusDiffers(svc('a'), desired)).toBe(true);
    expect(statusDiffers(written, { ...desired, ips: ['10.0.0.2'] })).toBe(true);
  });
});
