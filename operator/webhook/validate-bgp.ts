// The validating webhook for BGPAdvertisement and Community writes, and the
// BGP part of IPAddressPool writes: the cross-object checks of bgp-checks.ts
// run on the namespace's configuration with the incoming object in place.
//
// As MetalLB, only CREATE and UPDATE are checked. Deleting a Community whose
// alias is still used is allowed (the speaker leaves that advertisement out
// and logs the field): a webhook on DELETE with failurePolicy Fail would
// also block namespace and chart teardown whenever the operator is down.
import { bgpAdvertisementKind, communityKind, ipAddressPoolKind } from '../../crds/index.ts';
import { jsonEqual } from '../../lib/json-equal.ts';
import type { AdmissionRequest, AdmissionResult } from './admission.ts';
import { allow, deny, invalid } from './admission.ts';
import { checkBgpConfig, errorsIntroduced, formatConfigError, withObject } from './bgp-checks.ts';
import type { BgpConfigState, BgpObject, ChangedKind, ConfigError } from './bgp-checks.ts';
import type { WebhookDefinition } from './configuration.ts';
import type { Webhook } from './index.ts';
import type { AdmissionHandler } from './server.ts';

export const VALIDATE_BGP_PATH = '/validate-bgp';

export const bgpWebhookDefinition: WebhookDefinition = {
  name: `bgp.${bgpAdvertisementKind.group}`,
  type: 'validating',
  path: VALIDATE_BGP_PATH,
  rules: [
    {
      apiGroups: [bgpAdvertisementKind.group],
      apiVersions: [bgpAdvertisementKind.version],
      resources: [bgpAdvertisementKind.plural, communityKind.plural],
      operations: ['CREATE', 'UPDATE'],
      scope: 'Namespaced',
    },
  ],
  // Configuration, written by hand: as for pools, refusing while Portico is
  // down is safer than storing an advertisement the speaker must skip.
  failurePolicy: 'Fail',
  timeoutSeconds: 5,
  namespaces: 'portico-namespace',
};

interface KubeObject {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: unknown;
}

/** What the handler reads: the informers of Portico's namespace. */
export interface BgpStateSource {
  state(): BgpConfigState;
  hasSynced(): boolean;
  /**
   * The same read from the apiserver. Asked only before denying: the caches
   * follow writes a moment later, and `kubectl apply` of a Community and the
   * advertisement using it must not be refused for that.
   */
  fresh?(): Promise<BgpConfigState>;
}

export const toBgpObject = <S>(o: KubeObject): BgpObject<S> => ({
  name: o.metadata?.name ?? '',
  ...(o.metadata?.labels ? { labels: o.metadata.labels } : {}),
  spec: (o.spec ?? {}) as S,
});

const KINDS: Record<string, ChangedKind> = {
  [bgpAdvertisementKind.plural]: 'BGPAdvertisement',
  [communityKind.plural]: 'Community',
  [ipAddressPoolKind.plural]: 'IPAddressPool',
};

/**
 * Pure: the errors that make `incoming` (of `kind`) unacceptable in `state`.
 * Errors of the incoming object are always reported; errors of other objects
 * only when this change causes them.
 */
export function checkBgpChange(
  state: BgpConfigState,
  kind: ChangedKind,
  incoming: KubeObject,
): ConfigError[] {
  const object = toBgpObject<unknown>(incoming);
  const after = withObject(state, kind, object);
  const own = (e: ConfigError) => e.kind === kind && e.name === object.name;
  // The incoming object is judged afresh, even for errors its stored version
  // already had; the others only for what this change does to them.
  return [...checkBgpConfig(after).filter(own), ...errorsIntroduced(state, after).filter((e) => !own(e))];
}

/** 422 naming each object and field; errors on other objects say this change causes them. */
export function denyBgp(kind: ChangedKind, name: string, errors: readonly ConfigError[]): AdmissionResult {
  const text = (e: ConfigError) =>
    e.kind === kind && e.name === name
      ? formatConfigError(e)
      : `this change to ${kind} "${name}" would break ${formatConfigError(e)}`;
  return invalid(
    errors.map(text).join('; '),
    errors.map((e) => ({ message: text(e), field: e.field })),
  );
}

/** Handles BGPAdvertisement, Community and (from the pool webhook) IPAddressPool requests. */
export function bgpValidationHandler(source: BgpStateSource, namespace: string): AdmissionHandler {
  return async (request: AdmissionRequest): Promise<AdmissionResult> => {
    if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow();
    const kind = KINDS[request.resource.resource];
    // Portico reads BGP objects only from its own namespace; elsewhere they have no effect.
    if (!kind || request.namespace !== namespace) return allow();
    const obj = (request.object ?? {}) as KubeObject;
    if (request.operation === 'UPDATE') {
      const old = request.oldObject as KubeObject | undefined;
      if (obj.metadata?.deletionTimestamp) return allow();
      // Labels count: pool selectors of advertisements match them.
      if (old && jsonEqual(obj.spec, old.spec) && jsonEqual(obj.metadata?.labels, old.metadata?.labels)) {
        return allow();
      }
    }
    if (!source.hasSynced()) {
      return deny(`Portico has not loaded the BGP configuration of ${namespace} yet; retry in a moment`, {
        code: 503,
        reason: 'ServiceUnavailable',
      });
    }
    const name = obj.metadata?.name || request.name || '';
    const incoming = { ...obj, metadata: { ...obj.metadata, name } };
    let errors = checkBgpChange(source.state(), kind, incoming);
    if (errors.length > 0 && source.fresh) {
      // Unreachable apiserver: the cached judgement stands.
      const fresh = await source.fresh().catch(() => undefined);
      if (fresh) errors = checkBgpChange(fresh, kind, incoming);
    }
    return errors.length > 0 ? denyBgp(kind, name, errors) : allow();
  };
}

/** The BGPAdvertisement/Community validator, ready to `add()` to AdmissionWebhooks. */
export function bgpValidationWebhook(source: BgpStateSource, namespace: string): Webhook {
  return { definition: bgpWebhookDefinition, handler: bgpValidationHandler(source, namespace) };
}

/**
 * The pool webhook with the BGP checks after its own: a pool change that the
 * pool rules accept is still refused when it makes an advertisement's
 * aggregation too short or joins two advertisements with different localPref.
 */
export function withBgpPoolChecks(pool: Webhook, bgp: AdmissionHandler): Webhook {
  return {
    definition: pool.definition,
    handler: async (request) => {
      const first = await pool.handler(request);
      if (!first.allowed) return first;
      const second = await bgp(request);
      if (!second.allowed) return first.warnings ? { ...second, warnings: first.warnings } : second;
      return first;
    },
  };
}
