import { describe, expect, it } from '@jest/globals';
import {
  labelSelectorString,
  labelsString,
  matchesLabelSelector,
  validateLabelSelector,
} from '../../../operator/allocator/selector.ts';
import type { LabelSelector } from '../../../operator/allocator/selector.ts';

describe('matchesLabelSelector', () => {
  const labels = { app: 'web', tier: 'front', 'example.com/team': 'a' };

  it('empty selector matches everything, including no labels', () => {
    expect(matchesLabelSelector({}, labels)).toBe(true);
    expect(matchesLabelSelector({}, undefined)).toBe(true);
  });

  it('matchLabels needs every pair', () => {
    expect(matchesLabelSelector({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { app: 'web', tier: 'back' } }, labels)).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { app: 'web' } }, {})).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { 'example.com/team': 'a' } }, labels)).toBe(true);
  });

  it.each<[LabelSelector, boolean]>([
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'In', values: ['x'] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['api'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['x'] }] }, true], // absent label passes NotIn
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'missing', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [
      {
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }],
      },
      false,
    ], // ANDed
  ])('%j -> %s', (selector, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });

  it('does not match inherited object properties', () => {
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {})).toBe(
      false,
    );
  });
});

describe('validateLabelSelector', () => {
  it('accepts valid selectors', () => {
    expect(
      validateLabelSelector(
        {
          matchLabels: { 'portico.io/tenant': 'a', app: '' },
          matchExpressions: [
            { key: 'app', operator: 'In', values: ['a', 'b'] },
            { key: 'x', operator: 'Exists' },
            { key: 'y', operator: 'DoesNotExist', values: [] },
          ],
        },
        'spec.s[0]',
      ),
    ).toEqual([]);
  });

  it('names the field of each problem', () => {
    const errors = validateLabelSelector(
      {
        matchLabels: { 'bad key!': 'v', ok: 'bad value!' },
        matchExpressions: [
          { key: 'a', operator: 'Gt', values: ['1'] },
          { key: 'b', operator: 'In' },
          { key: 'c', operator: 'Exists', values: ['x'] },
          { key: 'd', operator: 'In', values: ['x', 'x'] },
          { key: 'e', operator: 'In', values: ['x'] },
          { key: 'e', operator: 'In', values: ['x'] },
          'nope',
        ],
        extra: true,
      },
      'spec.serviceAllocation.serviceSelectors[2]',
    );
    const paths = errors.map((e) => e.path);
    expect(paths).toEqual([
      'spec.serviceAllocation.serviceSelectors[2].extra',
      'spec.serviceAllocation.serviceSelectors[2].matchLabels',
      'spec.serviceAllocation.serviceSelectors[2].matchLabels["ok"]',
      'spec.serviceAllocation.serviceSelectors[2].matchExpressions[0].operator',
      'spec.serviceAllocation.serviceSelectors[2].matchExpressions[1].values',
      'spec.serviceAllocation.serviceSelectors[2].matchExpressions[2].values',
      'spec.serviceAllocation.serviceSelectors[2].matchExpressions[3].values[1]',
      'spec.serviceAllocation.serviceSelectors[2].matchExpressions[5]',
      'spec.serviceAllocation.serviceSelectors[2].matchExpressions[6]',
    ]);
    expect(errors[3]?.message).toContain('"Gt"');
  });

  it('checks label key syntax', () => {
    const bad = ['', '-a', 'a-', 'A/b', 'a/', '/b', `${'x'.repeat(64)}`, `${'p'.repeat(254)}/n`];
    for (const key of bad) {
      expect(validateLabelSelector({ matchExpressions: [{ key, operator: 'Exists' }] }, 's')).not.toEqual([]);
    }
    const good = ['a', 'a.b_c-d', 'example.com/a', 'x'.repeat(63)];
    for (const key of good) {
      expect(validateLabelSelector({ matchExpressions: [{ key, operator: 'Exists' }] }, 's')).toEqual([]);
    }
  });

  it('rejects non-objects', () => {
    expect(validateLabelSelector(null, 'p')).toEqual([
      { path: 'p', message: 'must be a label selector object' },
    ]);
    expect(validateLabelSelector([], 'p')).toHaveLength(1);
  });
});

describe('canonical strings', () => {
  it('ignores order', () => {
    expect(labelsString({ b: '2', a: '1' })).toBe('a=1,b=2');
    expect(labelsString(undefined)).toBe('');
    expect(
      labelSelectorString({
        matchLabels: { b: '2', a: '1' },
        matchExpressions: [{ key: 'c', operator: 'In', values: ['y', 'x'] }],
      }),
    ).toBe(
      labelSelectorString({
        matchExpressions: [{ key: 'c', operator: 'In', values: ['x', 'y'] }],
        matchLabels: { a: '1', b: '2' },
      }),
    );
  });
});
