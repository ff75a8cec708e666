import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';

describe('toolchain', () => {
  it('loads client-node and zod as ES modules', () => {
    expect(typeof k8s.KubeConfig).toBe('function');
    expect(z.string().safeParse(1).success).toBe(false);
  });
});
