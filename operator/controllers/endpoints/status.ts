// Pure: the status a ServiceBackends should show. Volatile numbers (probe
// counters, last probe times) are left out on purpose: status changes only
// when health, addresses or validity change, so probing does not write to
// the apiserver every interval.
import type { BackendStatus, ServiceBackendsStatus } from '../../../crds/index.ts';
import { formatTime, setCondition } from '../../../lib/conditions.ts';
import type { Condition } from '../../../lib/conditions.ts';
import { addressReady } from './backends.ts';
import type { DesiredEndpoint, ExpandedBackend, Observations } from './backends.ts';
import { bindingMessage } from './binding.ts';
import type { Binding } from './binding.ts';

export interface StatusInput {
  generation?: number;
  previous?: ServiceBackendsStatus;
  binding: Binding;
  expanded: readonly ExpandedBackend[];
  endpoints: readonly DesiredEndpoint[];
  obs: Observations;
  nowMs: number;
}

const MAX_LISTED = 10;
const MAX_STATUS_ADDRESSES = 100;

function list(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join('; ');
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown;
}

function backendStatus(e: ExpandedBackend, obs: Observations): BackendStatus {
  const notes: string[] = [];
  const unhealthy: string[] = [];
  for (const a of e.addresses) {
    if (addressReady(a, obs)) continue;
    const h = obs.health.get(a);
    unhealthy.push(h?.message ? `${a}: ${h.message}` : `${a}: waiting for the first health check`);
  }
  for (const s of e.skipped) notes.push(`${s.address} left out: ${s.why}`);
  const healthy = e.addresses.some((a) => addressReady(a, obs));
  if (e.backend.ip !== undefined) {
    const h = obs.health.get(e.addresses[0] ?? '');
    return {
      ip: e.backend.ip,
      healthy,
      ...(obs.probing && h?.sinceMs !== undefined ? { lastTransitionTime: formatTime(h.sinceMs) } : {}),
      ...(unhealthy.length + notes.length > 0 ? { message: list([...unhealthy, ...notes]) } : {}),
    };
  }
  const r = e.resolution;
  if (!r) notes.unshift('not resolved yet');
  else if (r.error) {
    notes.unshift(
      r.resolved
        ? `${r.error}; keeping ${e.addresses.length} last good address(es)`
        : `${r.error}; no address known yet`,
    );
  }
  return {
    hostname: e.backend.hostname ?? '',
    addresses: e.addresses.slice(0, MAX_STATUS_ADDRESSES),
    healthy,
    ...(unhealthy.length + notes.length > 0
      ? { message: list([...notes, ...unhealthy]).slice(0, 1024) }
      : {}),
  };
}

export function serviceBackendsStatus(input: StatusInput): ServiceBackendsStatus {
  const opts = { observedGeneration: input.generation, nowMs: input.nowMs };
  let conditions: Condition[] = (input.previous?.conditions as Condition[] | undefined) ?? [];
  const b = input.binding;
  if (!b.ok) {
    const message = bindingMessage(b);
    conditions = setCondition(
      conditions,
      { type: 'Invalid', status: 'True', reason: b.reason, message },
      opts,
    );
    conditions = setCondition(
      conditions,
      {
        type: 'ResolutionFailing',
        status: 'False',
        reason: 'NotResolving',
        message: 'the object is invalid',
      },
      opts,
    );
    conditions = setCondition(
      conditions,
      { type: 'Ready', status: 'False', reason: b.reason, message: `nothing is published: ${message}` },
      opts,
    );
    return { observedGeneration: input.generation, conditions, healthy: 0, total: 0 };
  }

  const backends = input.expanded.map((e) => backendStatus(e, input.obs));
  const total = input.endpoints.length;
  const healthy = input.endpoints.filter((e) => e.ready).length;
  const failing = input.expanded
    .filter((e) => e.resolution?.error)
    .map((e) => {
      const r = e.resolution!;
      const kept = r.resolved
        ? `keeping ${e.addresses.length} last good address(es)`
        : 'no address known yet';
      return `spec.backends[${e.index}].hostname ${JSON.stringify(e.backend.hostname)}: ${r.error}; ${kept}`;
    });
  const hasHostnames = input.expanded.some((e) => e.backend.hostname !== undefined);

  conditions = setCondition(conditions, { type: 'Invalid', status: 'False', reason: 'Valid' }, opts);
  conditions = setCondition(
    conditions,
    failing.length > 0
      ? { type: 'ResolutionFailing', status: 'True', reason: 'LookupFailed', message: list(failing) }
      : {
          type: 'ResolutionFailing',
          status: 'False',
          reason: hasHostnames ? 'Resolved' : 'NoHostnames',
        },
    opts,
  );
  const unresolved = input.expanded.filter((e) => e.backend.hostname !== undefined && !e.resolution).length;
  let ready: Parameters<typeof setCondition>[1];
  if (total === 0) {
    ready = {
      type: 'Ready',
      status: 'False',
      reason: 'NoAddresses',
      message: unresolved > 0 ? 'waiting for DNS' : 'no backend address to publish',
    };
  } else if (healthy === 0) {
    ready = {
      type: 'Ready',
      status: 'False',
      reason: 'NoHealthyBackends',
      message: `none of ${total} address(es) passes its health check`,
    };
  } else {
    ready = {
      type: 'Ready',
      status: 'True',
      reason: 'BackendsPublished',
      message: `${healthy} of ${total} address(es) ready`,
    };
  }
  conditions = setCondition(conditions, ready, opts);
  return { observedGeneration: input.generation, conditions, backends, healthy, total };
}
