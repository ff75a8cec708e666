// Pure: checks a ServiceBackends against the Service it names and works out
// the EndpointSlice ports and the health-check plan. Every error names the
// field at fault, e.g. `spec.ports[1].name: ...`.
import { formatErrors, parseDuration, validateServiceBackends } from '../../../crds/index.ts';
import type { FieldError, ServiceBackendsSpec } from '../../../crds/index.ts';
import type { HealthThresholds } from './health.ts';

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
  targetPort?: number | string;
}

export interface ServiceLike {
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string> };
  spec?: {
    type?: string;
    selector?: Record<string, string> | null;
    ports?: ServicePort[];
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
  };
}

/** A port as written into EndpointSlices: named like the Service port it serves. */
export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface ProbePlan {
  type: 'tcp' | 'http';
  port: number;
  path: string;
  intervalMs: number;
  timeoutMs: number;
  thresholds: HealthThresholds;
}

export type InvalidReason =
  | 'InvalidSpec'
  | 'ServiceNotFound'
  | 'ServiceHasSelector'
  | 'ExternalNameService'
  | 'UnknownPort'
  | 'InvalidHealthCheck';

export type Binding =
  | { ok: true; spec: ServiceBackendsSpec; ports: SlicePort[]; probe?: ProbePlan }
  | { ok: false; reason: InvalidReason; errors: FieldError[] };

const invalid = (reason: InvalidReason, path: string, message: string): Binding => ({
  ok: false,
  reason,
  errors: [{ path, message }],
});

/** `formatErrors` for a failed binding: `spec.serviceName: ...; spec.ports[0].name: ...`. */
export function bindingMessage(b: Binding): string {
  return b.ok ? '' : formatErrors(b.errors);
}

export function bindServiceBackends(obj: unknown, service: ServiceLike | undefined): Binding {
  const parsed = validateServiceBackends(obj);
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', errors: parsed.errors };
  const spec = parsed.value.spec;
  const namespace = parsed.value.metadata?.namespace ?? '';
  const svcName = JSON.stringify(spec.serviceName);
  if (!service) {
    return invalid(
      'ServiceNotFound',
      'spec.serviceName',
      `Service ${svcName} not found in namespace ${JSON.stringify(namespace)}`,
    );
  }
  const svc = service.spec ?? {};
  if (svc.type === 'ExternalName') {
    return invalid(
      'ExternalNameService',
      'spec.serviceName',
      `Service ${svcName} is of type ExternalName, which has no endpoints`,
    );
  }
  if (svc.selector && Object.keys(svc.selector).length > 0) {
    return invalid(
      'ServiceHasSelector',
      'spec.serviceName',
      `Service ${svcName} has a selector, so Kubernetes manages its endpoints; remove the selector to use ServiceBackends`,
    );
  }

  const servicePorts = svc.ports ?? [];
  const ports: SlicePort[] = [];
  const errors: FieldError[] = [];
  spec.ports.forEach((p, i) => {
    // An unnamed port stands for the Service's only port, whatever its name.
    const match =
      p.name === undefined
        ? servicePorts.length === 1
          ? servicePorts[0]
          : undefined
        : servicePorts.find((sp) => (sp.name ?? '') === p.name);
    if (!match) {
      const names = servicePorts.map((sp) => JSON.stringify(sp.name ?? '')).join(', ') || 'none';
      errors.push({
        path: p.name === undefined ? `spec.ports[${i}]` : `spec.ports[${i}].name`,
        message:
          p.name === undefined
            ? `an unnamed port needs a Service with exactly one port; Service ${svcName} has ${servicePorts.length}`
            : `Service ${svcName} has no port named ${JSON.stringify(p.name)} (its ports: ${names})`,
      });
      return;
    }
    const protocol = match.protocol ?? 'TCP';
    if (protocol !== p.protocol) {
      errors.push({
        path: `spec.ports[${i}].protocol`,
        message: `is ${p.protocol} but Service port ${JSON.stringify(match.name ?? '')} is ${protocol}`,
      });
      return;
    }
    ports.push({
      name: match.name ?? '',
      port: p.port,
      protocol,
      ...(match.appProtocol ? { appProtocol: match.appProtocol } : {}),
    });
  });
  if (errors.length > 0) return { ok: false, reason: 'UnknownPort', errors };

  const hc = spec.healthCheck;
  if (!hc) return { ok: true, spec, ports };
  const intervalMs = parseDuration(hc.interval);
  const timeoutMs = parseDuration(hc.timeout);
  // The CRD rejects these; checked again for objects stored before it did.
  if (intervalMs === undefined || intervalMs < 1000) {
    return invalid('InvalidHealthCheck', 'spec.healthCheck.interval', 'must be a duration of at least 1s');
  }
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > intervalMs) {
    return invalid(
      'InvalidHealthCheck',
      'spec.healthCheck.timeout',
      'must be greater than 0 and at most interval',
    );
  }
  let port: number;
  if (hc.port === undefined) port = spec.ports[0]!.port;
  else if (typeof hc.port === 'number') port = hc.port;
  else {
    const named = spec.ports.find((p) => p.name === hc.port);
    if (!named) {
      return invalid(
        'InvalidHealthCheck',
        'spec.healthCheck.port',
        `no entry of spec.ports is named ${JSON.stringify(hc.port)}`,
      );
    }
    port = named.port;
  }
  return {
    ok: true,
    spec,
    ports,
    probe: {
      type: hc.type,
      port,
      path: hc.path ?? '/',
      intervalMs,
      timeoutMs,
      thresholds: { healthy: hc.healthyThreshold, unhealthy: hc.unhealthyThreshold },
    },
  };
}
