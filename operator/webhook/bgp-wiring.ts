// The informers behind the BGP webhook: BGPAdvertisements and Communities of
// Portico's namespace, beside the pools informer the operator already runs.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { bgpAdvertisementKind, communityKind, ipAddressPoolKind } from '../../crds/index.ts';
import type { CommunitySpec } from '../../crds/index.ts';
import type { Informer } from '../../lib/informer.ts';
import { createResourceInformer } from '../../lib/list-watch.ts';
import type { Logger } from '../../lib/logger.ts';
import type { RawKubeClient } from '../../lib/raw-client.ts';
import { collectionPath } from '../../lib/resource-path.ts';
import type { ResourceType } from '../../lib/resource-path.ts';
import type { AdvertisementSpecLike, BgpConfigState, PoolSpecLike } from './bgp-checks.ts';
import {
  bgpValidationHandler,
  bgpValidationWebhook,
  toBgpObject,
  withBgpPoolChecks,
} from './validate-bgp.ts';
import type { BgpStateSource } from './validate-bgp.ts';
import type { Webhook } from './index.ts';

interface Obj {
  metadata: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: unknown;
}

export interface BgpWebhooks {
  /** Validates BGPAdvertisement and Community writes. */
  webhook: Webhook;
  /** `pool` with the BGP checks of pool writes added. */
  withPoolChecks(pool: Webhook): Webhook;
  start(): void;
  stop(): Promise<void>;
}

export function createBgpWebhooks(o: {
  kc: KubeConfig;
  client: RawKubeClient;
  registry: Registry;
  logger: Logger;
  namespace: string;
  pools: Pick<Informer<Obj>, 'list' | 'hasSynced'>;
}): BgpWebhooks {
  const informer = (type: typeof bgpAdvertisementKind | typeof communityKind) =>
    createResourceInformer<Obj>(o.kc, type, {
      namespace: o.namespace,
      client: o.client,
      registry: o.registry,
      logger: o.logger.child({ informer: type.plural }),
    });
  const advertisements = informer(bgpAdvertisementKind);
  const communities = informer(communityKind);
  const live = async <S>(type: ResourceType) =>
    (await o.client.getJson<{ items?: Obj[] }>(collectionPath(type, o.namespace))).items?.map((x) =>
      toBgpObject<S>(x),
    ) ?? [];
  const source: BgpStateSource = {
    fresh: async () => {
      const [advs, comms, pools] = await Promise.all([
        live<AdvertisementSpecLike>(bgpAdvertisementKind),
        live<CommunitySpec>(communityKind),
        live<PoolSpecLike>(ipAddressPoolKind),
      ]);
      return { advertisements: advs, communities: comms, pools };
    },
    hasSynced: () => advertisements.hasSynced() && communities.hasSynced() && o.pools.hasSynced(),
    state: (): BgpConfigState => ({
      advertisements: advertisements.list().map((a) => toBgpObject<AdvertisementSpecLike>(a)),
      communities: communities.list().map((c) => toBgpObject<CommunitySpec>(c)),
      pools: o.pools.list().map((p) => toBgpObject<PoolSpecLike>(p)),
    }),
  };
  const handler = bgpValidationHandler(source, o.namespace);
  return {
    webhook: bgpValidationWebhook(source, o.namespace),
    withPoolChecks: (pool) => withBgpPoolChecks(pool, handler),
    start: () => {
      advertisements.start();
      communities.start();
    },
    stop: async () => {
      await advertisements.stop();
      await communities.stop();
    },
  };
}
