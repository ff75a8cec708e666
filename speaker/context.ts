// What every part of the speaker (data path, L2, BGP) is given by main.ts, and
// what it gives back. The informers for Services, EndpointSlices and Nodes are
// shared: one watch per resource per node, however many parts use them, since a
// DaemonSet multiplies every watch by the node count.
import type { KubeConfig, V1Node, V1Service, V1EndpointSlice } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Informer } from '../lib/informer.ts';
import type { KubeObject } from '../lib/object-cache.ts';
import { createResourceInformer } from '../lib/list-watch.ts';
import { childLogger } from '../lib/logger.ts';
import { RawKubeClient } from '../lib/raw-client.ts';

// client-node's types, widened with the cache's minimal object shape.
export type Service = V1Service & KubeObject;
export type EndpointSlice = V1EndpointSlice & KubeObject;
export type Node = V1Node & KubeObject;

export interface SpeakerInformers {
  readonly services: Informer<Service>;
  readonly endpointSlices: Informer<EndpointSlice>;
  readonly nodes: Informer<Node>;
}

export interface SpeakerContext {
  readonly kc: KubeConfig;
  /** The Node this speaker runs on (the DaemonSet passes spec.nodeName). */
  readonly nodeName: string;
  /** Portico's own namespace: its CRDs and Secrets (BGP passwords) live here. */
  readonly namespace: string;
  readonly registry: Registry;
  readonly informers: SpeakerInformers;
  /** Aborted on SIGTERM; parts stop their loops and release what they hold. */
  readonly signal: AbortSignal;
}

/** A running part of the speaker. */
export interface SpeakerPart {
  readonly name: string;
  /** True once the part has synced its inputs and made its first pass. */
  ready(): boolean;
  /** Stops and undoes what must not outlive the process (e.g. withdraw, stop answering). */
  stop(): Promise<void>;
}

export function createSpeakerInformers(kc: KubeConfig, registry: Registry): SpeakerInformers {
  const client = RawKubeClient.fromKubeConfig(kc);
  const options = (plural: string) => ({ client, registry, logger: childLogger(`informer.${plural}`) });
  return {
    services: createResourceInformer<Service>(
      kc,
      { group: '', version: 'v1', plural: 'services' },
      options('services'),
    ),
    endpointSlices: createResourceInformer<EndpointSlice>(
      kc,
      { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
      options('endpointslices'),
    ),
    nodes: createResourceInformer<Node>(kc, { group: '', version: 'v1', plural: 'nodes' }, options('nodes')),
  };
}
