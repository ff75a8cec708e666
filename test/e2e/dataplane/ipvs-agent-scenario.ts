// The agent (startDataplane, mode ipvs) inside the UML guest, part of
// ipvs-scenario.ts. The guest cannot reach the host's apiserver, so the
// informers are fed by an in-memory stand-in: a static list, and a watch the
// scenario pushes MODIFIED events into. Everything else is the real agent:
// the kube-proxy check, the sysctls, the sync loop and its periodic full
// resync, the IPVS backend (its companion rules in iptables-legacy, as the
// guest's nf_tables has no inet family) and the metrics.
import type { KubeConfig } from '@kubernetes/client-node';
import { Informer } from '../../../lib/informer.ts';
import type { WatchEvent } from '../../../lib/informer.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createRegistry } from '../../../lib/metrics.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import type { EndpointSlice, Node, Service, SpeakerContext } from '../../../speaker/context.ts';
import { startDataplane } from '../../../speaker/dataplane/agent.ts';
import type { Lab } from '../netns/netns.ts';
import { answeredBy, probe } from './topology.ts';

/** An informer over objects held in memory; `modify` plays a watch event. */
class MemorySource<T extends KubeObject> {
  readonly informer: Informer<T>;
  #emit: ((e: WatchEvent<T>) => void) | null = null;
  #version = 1;

  constructor(name: string, items: T[]) {
    this.informer = new Informer<T>({
      name,
      list: async () => ({ items, resourceVersion: '1' }),
      watch: async (_rv, onEvent) => {
        this.#emit = onEvent;
        return { abort: () => (this.#emit = null) };
      },
      watchdogMs: 3_600_000,
      logger: createLogger({ level: 'silent' }),
    });
  }

  modify(obj: T): void {
    const metadata = { ...obj.metadata, resourceVersion: String(++this.#version) };
    this.#emit?.({ type: 'MODIFIED', object: { ...obj, metadata } });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export interface AgentInput {
  readonly services: Service[];
  readonly slices: EndpointSlice[];
  readonly node: Node;
  /** The slice of the `web` Service with pod-c not ready. */
  readonly webWithoutC: EndpointSlice;
  readonly vip: string;
}

export async function agentScenario(
  lab: Lab,
  input: AgentInput,
  slow: number,
): Promise<Record<string, unknown>> {
  const services = new MemorySource<Service>('services', input.services);
  const slices = new MemorySource<EndpointSlice>('endpointslices', input.slices);
  const nodes = new MemorySource<Node>('nodes', [input.node]);
  const abort = new AbortController();
  const registry = createRegistry({ defaultMetrics: false });
  const ctx: SpeakerContext = {
    kc: {} as KubeConfig, // unused by the data path
    nodeName: input.node.metadata?.name ?? '',
    namespace: 'portico-system',
    registry,
    informers: { services: services.informer, endpointSlices: slices.informer, nodes: nodes.informer },
    signal: abort.signal,
  };
  const part = await startDataplane(ctx, {
    mode: 'ipvs',
    minSyncIntervalMs: 100,
    fullResyncIntervalMs: 1000,
    commandPrefix: ['ip', 'netns', 'exec', lab.ns('node')],
    logger: createLogger({ level: 'silent' }),
  });
  const all = (want: number) => async () => {
    const got = answeredBy(await probe(lab, 'node', input.vip, 80, 9, slow));
    return got.size === want ? [...got].sort() : null;
  };
  try {
    const out: Record<string, unknown> = {};
    out['first'] = await until('agent programs the ClusterIP', all(3));
    out['ready'] = part.ready();
    slices.modify(input.webWithoutC);
    out['afterNotReady'] = await until('pod-c drops out', all(2));
    await lab.exec('node', ['ipvsadm', '-D', '-t', `${input.vip}:80`]);
    out['repaired'] = await until('periodic full resync repairs', all(2));
    out['metrics'] = await registry.metrics();
    return out;
  } finally {
    abort.abort();
    await part.stop();
    for (const s of [services, slices, nodes]) await s.informer.stop();
  }
}
