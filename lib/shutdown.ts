// Graceful shutdown for the binaries: on SIGTERM (the kubelet's stop) or
// SIGINT, run the stop steps in order - typically leader election first (so
// the lease is released while we can still write), then queues, informers and
// the health server - and exit. A second signal or a timeout exits at once.
import { childLogger } from './logger.ts';
import type { Logger } from './logger.ts';

export interface ShutdownStep {
  name: string;
  run: () => void | Promise<void>;
}

export interface ShutdownOptions {
  signals?: NodeJS.Signals[];
  /** Give up and exit 1 after this long; default 25s (under the default 30s grace period). */
  timeoutMs?: number;
  logger?: Logger;
  /** Injectable for tests. */
  exit?: (code: number) => void;
  emitter?: Pick<NodeJS.Process, 'on' | 'removeListener'>;
}

/** Runs the steps in order (each awaited, failures logged) and resolves to the exit code. */
export async function runShutdown(steps: readonly ShutdownStep[], logger: Logger): Promise<number> {
  let code = 0;
  for (const step of steps) {
    try {
      await step.run();
    } catch (err) {
      code = 1;
      logger.error({ err, step: step.name }, 'shutdown step failed');
    }
  }
  return code;
}

/** Installs the signal handlers; returns a function that removes them. */
export function onShutdownSignal(steps: readonly ShutdownStep[], options: ShutdownOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const emitter = options.emitter ?? process;
  const log = options.logger ?? childLogger('shutdown');
  let started = false;

  const handler = (signal: NodeJS.Signals): void => {
    if (started) {
      log.warn({ signal }, 'second signal; exiting now');
      return exit(1);
    }
    started = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: options.timeoutMs ?? 25_000 }, 'shutdown timed out');
      exit(1);
    }, options.timeoutMs ?? 25_000);
    timer.unref();
    void runShutdown(steps, log).then((code) => {
      clearTimeout(timer);
      exit(code);
    });
  };
  // Kept installed after the first signal, so that a second one reaches us
  // (and exits at once) instead of Node's default handler.
  for (const s of signals) emitter.on(s, handler);
  return () => {
    for (const s of signals) emitter.removeListener(s, handler);
  };
}
