import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { onShutdownSignal } from '../../../lib/shutdown.ts';
import { deferred, flush, silentLogger } from './helpers.ts';

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  return {
    emitter: emitter as unknown as Pick<NodeJS.Process, 'on' | 'removeListener'>,
    signal: (s: NodeJS.Signals) => emitter.emit(s, s),
    exits,
    exit: (code: number) => void exits.push(code),
  };
}

describe('onShutdownSignal', () => {
  it('runs the steps in order on SIGTERM, then exits 0', async () => {
    const p = fakeProcess();
    const order: string[] = [];
    const gate = deferred();
    onShutdownSignal(
      [
        { name: 'lease', run: async () => void order.push('lease') },
        {
          name: 'queues',
          run: async () => {
            await gate.promise;
            order.push('queues');
          },
        },
        { name: 'health', run: () => void order.push('health') },
      ],
      { emitter: p.emitter, exit: p.exit, logger: silentLogger },
    );
    p.signal('SIGTERM');
    await flush();
    expect(order).toEqual(['lease']);
    expect(p.exits).toEqual([]);
    gate.resolve();
    await flush();
    expect(order).toEqual(['lease', 'queues', 'health']);
    expect(p.exits).toEqual([0]);
  });

  it('keeps going past a failing step and exits 1', async () => {
    const p = fakeProcess();
    const order: string[] = [];
    onShutdownSignal(
      [
        {
          name: 'bad',
          run: () => {
            throw new Error('boom');
          },
        },
        { name: 'good', run: () => void order.push('good') },
      ],
      { emitter: p.emitter, exit: p.exit, logger: silentLogger },
    );
    p.signal('SIGINT');
    await flush();
    expect(order).toEqual(['good']);
    expect(p.exits).toEqual([1]);
  });

  it('exits at once on a second signal', async () => {
    const p = fakeProcess();
    const never = deferred();
    const remove = onShutdownSignal([{ name: 'stuck', run: () => never.promise }], {
      emitter: p.emitter,
      exit: p.exit,
      logger: silentLogger,
    });
    p.signal('SIGTERM');
    p.signal('SIGTERM');
    await flush();
    expect(p.exits).toEqual([1]);
    remove();
  });
});
