import { describe, expect, it } from '@jest/globals';
import {
  findCondition,
  formatTime,
  isConditionTrue,
  removeCondition,
  setCondition,
} from '../../../lib/conditions.ts';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0, 250);
const T1 = T0 + 60_000;

describe('conditions', () => {
  it('formats times like metav1.Time (no fractional seconds)', () => {
    expect(formatTime(T0)).toBe('2025-06-01T12:00:00Z');
  });

  it('adds a condition with transition time and generation', () => {
    const list = setCondition(
      undefined,
      { type: 'Ready', status: 'True', reason: 'Allocated', message: 'ok' },
      { observedGeneration: 3, nowMs: T0 },
    );
    expect(list).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Allocated',
        message: 'ok',
        lastTransitionTime: '2025-06-01T12:00:00Z',
        observedGeneration: 3,
      },
    ]);
  });

  it('keeps lastTransitionTime while the status is unchanged, even if reason or message change', () => {
    const first = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A' }, { nowMs: T0 });
    const second = setCondition(
      first,
      { type: 'Ready', status: 'False', reason: 'B', message: 'm' },
      { nowMs: T1 },
    );
    expect(second[0]).toMatchObject({ reason: 'B', message: 'm', lastTransitionTime: formatTime(T0) });
    const third = setCondition(second, { type: 'Ready', status: 'True', reason: 'C' }, { nowMs: T1 });
    expect(third[0]?.lastTransitionTime).toBe(formatTime(T1));
  });

  it('is idempotent so an unchanged status needs no write', () => {
    const update = { type: 'Ready', status: 'True', reason: 'Allocated' } as const;
    const once = setCondition(undefined, update, { observedGeneration: 1, nowMs: T0 });
    expect(setCondition(once, update, { observedGeneration: 1, nowMs: T1 })).toEqual(once);
  });

  it('does not touch other conditions or the input array', () => {
    const input = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'R' }, { nowMs: T0 });
    const output = setCondition(
      input,
      { type: 'Exhausted', status: 'False', reason: 'Space' },
      { nowMs: T1 },
    );
    expect(input).toHaveLength(1);
    expect(output.map((c) => c.type)).toEqual(['Ready', 'Exhausted']);
    expect(isConditionTrue(output, 'Ready')).toBe(true);
    expect(isConditionTrue(output, 'Exhausted')).toBe(false);
    expect(findCondition(output, 'Overlap')).toBeUndefined();
    expect(removeCondition(output, 'Ready').map((c) => c.type)).toEqual(['Exhausted']);
  });
});
