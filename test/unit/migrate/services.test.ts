// Services keep their IPs: one IPReservation per Service MetalLB gave
// addresses to, exactly as Portico's operator writes it, and the Service
// annotations reported rather than rewritten.
import { describe, expect, it } from '@jest/globals';
import { validateIPReservation } from '../../../crds/index.ts';
import { reservationName } from '../../../operator/controllers/loadbalancer/reservation.ts';
import { UPSTREAM, convertYaml, issueLines } from './helpers.ts';

interface SvcOptions {
  ns?: string;
  annotations?: Record<string, string>;
  ips?: string[];
  families?: string[];
  cls?: string;
  type?: string;
}

function service(name: string, o: SvcOptions = {}): string {
  return `
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${o.ns ?? 'default'}
  uid: uid-${name}
  annotations: ${JSON.stringify(o.annotations ?? {})}
spec:
  type: ${o.type ?? 'LoadBalancer'}
  ${o.cls ? `loadBalancerClass: ${o.cls}` : ''}
  ipFamilies: ${JSON.stringify(o.families ?? ['IPv4'])}
  ports: [{port: 80}]
status:
  loadBalancer:
    ingress: ${JSON.stringify((o.ips ?? []).map((ip) => ({ ip, ipMode: 'VIP' })))}
`;
}

const reservations = (yamlText: string) =>
  convertYaml(yamlText)
    .converted.filter((c) => c.object.kind === 'IPReservation')
    .map((c) => c.object);

describe('migrate-metallb: Services keep their IPs', () => {
  it('writes the reservation the operator itself would write for the Service', () => {
    const r = convertYaml(
      UPSTREAM +
        service('web', {
          ips: ['192.168.10.7'],
          annotations: {
            'metallb.io/ip-allocated-from-pool': 'first-pool',
            'metallb.io/allow-shared-ip': 'web-key',
          },
        }),
    );
    expect(r.complete).toBe(true);
    const res = r.converted.filter((c) => c.object.kind === 'IPReservation');
    expect(res.map((c) => c.object)).toEqual([
      {
        apiVersion: 'portico.io/v1alpha1',
        kind: 'IPReservation',
        metadata: {
          name: reservationName('default', 'web'),
          namespace: 'portico-system',
          labels: { 'app.kubernetes.io/managed-by': 'portico' },
        },
        spec: {
          serviceNamespace: 'default',
          serviceName: 'web',
          serviceUID: 'uid-web',
          pool: 'first-pool',
          ips: ['192.168.10.7'],
          sharingKey: 'web-key',
        },
      },
    ]);
    expect(validateIPReservation(res[0]!.object).ok).toBe(true);
    expect(res[0]!.from).toBe('Service default/web (192.168.10.7)');
    expect(r.notes).toEqual([
      'Service default/web: metallb.io/allow-shared-ip kept as is; Portico reads them as aliases of portico.io/allow-shared-ip.',
    ]);
  });

  it('keeps dual-stack addresses in ipFamilies order, and finds the pool of a Service MetalLB did not annotate', () => {
    const [res] = reservations(
      UPSTREAM +
        service('dual', {
          ips: ['192.168.9.3', 'fc00:f853:ccd:e799::4'],
          families: ['IPv6', 'IPv4'],
          annotations: { 'metallb.universe.tf/address-pool': 'first-pool' },
        }),
    );
    expect(res?.spec).toEqual({
      serviceNamespace: 'default',
      serviceName: 'dual',
      serviceUID: 'uid-dual',
      pool: 'first-pool',
      ips: ['fc00:f853:ccd:e799::4', '192.168.9.3'],
    });
  });

  it('leaves alone Services that are not LoadBalancers, have no address, or hold one no pool covers', () => {
    const r = convertYaml(
      UPSTREAM +
        service('cluster-only', { type: 'ClusterIP' }) +
        service('pending') +
        service('cloud', { ips: ['203.0.113.9'] }),
    );
    expect(r.converted.filter((c) => c.object.kind === 'IPReservation')).toEqual([]);
    expect(r.complete).toBe(true);
    expect(issueLines(r.issues.filter((i) => i.object.startsWith('Service')))).toEqual([
      "warning Service default/cloud status.loadBalancer.ingress: no MetalLB annotation and no converted pool holds 203.0.113.9: taken as not MetalLB's, no reservation",
    ]);
    expect(r.notes).toEqual(['1 Service(s) not of type LoadBalancer: nothing to keep.']);
  });

  it('reports addresses it cannot keep and pools that were not converted', () => {
    const r = convertYaml(
      UPSTREAM +
        service('gone-pool', {
          ips: ['10.9.0.1'],
          annotations: { 'metallb.io/ip-allocated-from-pool': 'old' },
        }) +
        service('moved', {
          ips: ['192.168.20.5'],
          annotations: { 'metallb.io/ip-allocated-from-pool': 'first-pool' },
        }) +
        service('asks', {
          ips: ['192.168.10.9'],
          annotations: { 'metallb.io/address-pool': 'nope', 'metallb.io/frobnicate': 'x' },
        }),
    );
    expect(r.complete).toBe(false);
    expect(issueLines(r.issues.filter((i) => i.object.startsWith('Service')))).toEqual([
      'error Service default/gone-pool metadata.annotations: its addresses came from pool "old", which is not among the converted objects: 10.9.0.1 cannot be kept',
      'error Service default/moved status.loadBalancer.ingress: 192.168.20.5 not all in pool "first-pool" as converted: cannot be kept',
      'error Service default/asks metadata.annotations["metallb.io/address-pool"]: names pool "nope", which is not among the converted objects',
      'warning Service default/asks metadata.annotations["metallb.io/frobnicate"]: Portico does not read this annotation',
    ]);
    expect(reservations(UPSTREAM + service('asks', { ips: ['192.168.10.9'] }))).toHaveLength(1);
  });

  it('says which class to run Portico with for a Service of another load-balancer class', () => {
    const r = convertYaml(UPSTREAM + service('classy', { ips: ['192.168.10.8'], cls: 'metallb.io/metallb' }));
    expect(issueLines(r.issues.filter((i) => i.object.startsWith('Service')))).toEqual([
      'warning Service default/classy spec.loadBalancerClass: Portico serves it only when run with --load-balancer-class=metallb.io/metallb',
    ]);
    expect(r.converted.filter((c) => c.object.kind === 'IPReservation')).toHaveLength(1);
  });
});
