// Shared bits of the lib/ integration tests: namespaces per test, waiting on
// conditions, and a switch that cuts an informer off from the apiserver.
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../../lib/logger.ts';
import type { Watcher } from '../../../lib/informer.ts';
import { uniqueName } from '../../harness/shared.ts';

/** Quiet unless PORTICO_LOG_LEVEL asks for more (e.g. debug when a test misbehaves). */
export const testLogger = createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent', name: 'test' });

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function createNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}

/**
 * Wraps a watcher so a test can cut the informer off (open watches fail, new
 * ones are refused) while it changes things behind the informer's back.
 */
export class Partition {
  #cut = false;
  #open = new Set<() => void>();

  wrap<T>(inner: Watcher<T>): Watcher<T> {
    return async (resourceVersion, onEvent, onDone) => {
      if (this.#cut) throw new Error('test partition: apiserver unreachable');
      let fail = (): void => undefined;
      const handle = await inner(
        resourceVersion,
        (event) => {
          if (!this.#cut) onEvent(event);
        },
        (err) => {
          this.#open.delete(fail);
          onDone(err);
        },
      );
      fail = () => {
        handle.abort();
        onDone(new Error('test partition: connection lost'));
      };
      this.#open.add(fail);
      return handle;
    };
  }

  cut(): void {
    this.#cut = true;
    for (const fail of [...this.#open]) fail();
    this.#open.clear();
  }

  heal(): void {
    this.#cut = false;
  }
}
