// Pure: the operator flags of the LoadBalancer controller, checked with the
// flag named (operator/options.ts calls this).
import { parseDuration } from '../../../crds/index.ts';

export interface LoadBalancerOptions {
  /** spec.loadBalancerClass of the Services Portico serves. */
  loadBalancerClass: string;
  /** Also serve LoadBalancer Services without a class. */
  defaultLoadBalancer: boolean;
  /** How long a deleted Service's addresses stay reserved for its name; 0 disables sticky IPs. */
  stickyHoldMs: number;
}

export const DEFAULT_LOAD_BALANCER_CLASS = 'portico.io/lb';

export const LOADBALANCER_FLAGS = {
  'load-balancer-class': { type: 'string', default: DEFAULT_LOAD_BALANCER_CLASS },
  'default-load-balancer': { type: 'string', default: 'true' },
  'sticky-hold': { type: 'string', default: '24h' },
} as const;

export const LOADBALANCER_USAGE = `
  --load-balancer-class C  spec.loadBalancerClass of the Services to serve (default ${DEFAULT_LOAD_BALANCER_CLASS})
  --default-load-balancer BOOL  also serve LoadBalancer Services without a class (default true)
  --sticky-hold D          how long a deleted Service's addresses stay reserved for a Service
                           re-created with the same namespace/name; 0 disables (default 24h)`;

export class LoadBalancerOptionsError extends Error {}

// A label-style qualified name, as the apiserver requires of loadBalancerClass.
const QUALIFIED =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export function parseLoadBalancerOptions(values: {
  'load-balancer-class': string;
  'default-load-balancer': string;
  'sticky-hold': string;
}): LoadBalancerOptions {
  const cls = values['load-balancer-class'];
  if (cls.length > 316 || !QUALIFIED.test(cls)) {
    throw new LoadBalancerOptionsError(
      `--load-balancer-class: ${JSON.stringify(cls)} is not a qualified name like portico.io/lb`,
    );
  }
  const dflt = values['default-load-balancer'];
  if (dflt !== 'true' && dflt !== 'false') {
    throw new LoadBalancerOptionsError(
      `--default-load-balancer: ${JSON.stringify(dflt)} must be true or false`,
    );
  }
  const hold = parseDuration(values['sticky-hold']);
  if (hold === undefined) {
    throw new LoadBalancerOptionsError(
      `--sticky-hold: ${JSON.stringify(values['sticky-hold'])} is not a duration like 24h or 0`,
    );
  }
  return { loadBalancerClass: cls, defaultLoadBalancer: dflt === 'true', stickyHoldMs: hold };
}
