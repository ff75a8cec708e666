import { describe, expect, it } from '@jest/globals';
import {
  buildRequest,
  ingressFor,
  ingressIPs,
  isOurs,
  restoreInfo,
} from '../../../operator/controllers/loadbalancer/service.ts';
import { svc } from './helpers.ts';

describe('which Services are ours', () => {
  const ours = { loadBalancerClass: 'portico.io/lb', isDefault: true };
  const notDefault = { ...ours, isDefault: false };
  it('takes our class, and no class only when we are the default', () => {
    expect(isOurs(svc('a', { class: 'portico.io/lb' }), ours)).toBe(true);
    expect(isOurs(svc('a', { class: 'portico.io/lb' }), notDefault)).toBe(true);
    expect(isOurs(svc('a'), ours)).toBe(true);
    expect(isOurs(svc('a'), notDefault)).toBe(false);
    expect(isOurs(svc('a', { class: 'example.com/other' }), ours)).toBe(false);
  });
  it('ignores other Service types', () => {
    expect(isOurs(svc('a', { type: 'ClusterIP' }), ours)).toBe(false);
    expect(isOurs(svc('a', { type: 'NodePort', class: 'portico.io/lb' }), ours)).toBe(false);
  });
});

describe('allocation request from a Service', () => {
  it('carries families, ports, traffic policy, selector and labels', () => {
    const r = buildRequest(
      svc('web', {
        ipFamilies: ['IPv6', 'IPv4'],
        ipFamilyPolicy: 'PreferDualStack',
        ports: [{ port: 443 }, { protocol: 'UDP', port: 53 }],
        externalTrafficPolicy: 'Local',
        labels: { tier: 'front' },
        annotations: { 'portico.io/allow-shared-ip': 'k', 'metallb.io/address-pool': 'p' },
      }),
      { team: 'a' },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.request).toEqual({
      service: 'ns/web',
      ipFamilies: ['IPv6', 'IPv4'],
      ipFamilyPolicy: 'PreferDualStack',
      pool: 'p',
      namespaceLabels: { team: 'a' },
      serviceLabels: { tier: 'front' },
      sharingKey: 'k',
      ports: [
        { protocol: 'TCP', port: 443 },
        { protocol: 'UDP', port: 53 },
      ],
      externalTrafficPolicy: 'Local',
      selector: { app: 'web' },
    });
    expect(r.annotations.aliases).toHaveLength(1);
  });

  it('takes spec.loadBalancerIP or the loadBalancerIPs annotation, not both', () => {
    const spec = buildRequest(svc('a', { loadBalancerIP: '10.0.0.1' }), {});
    expect(spec.ok && spec.request.requestedIPs).toEqual(['10.0.0.1']);
    const ann = buildRequest(
      svc('a', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.0.0.1, fd00::1' } }),
      {},
    );
    expect(ann.ok && ann.request.requestedIPs).toEqual(['10.0.0.1', 'fd00::1']);
    const both = buildRequest(
      svc('a', { loadBalancerIP: '10.0.0.1', annotations: { 'portico.io/loadBalancerIPs': '10.0.0.2' } }),
      {},
    );
    expect(both.ok).toBe(false);
    if (!both.ok) expect(both.message).toMatch(/not both/);
  });

  it('treats "Global" traffic policy as Cluster and an empty pool annotation as none', () => {
    const r = buildRequest(
      svc('a', { externalTrafficPolicy: 'Global', annotations: { 'portico.io/address-pool': '' } }),
      {},
    );
    expect(r.ok && r.request.externalTrafficPolicy).toBe('Cluster');
    expect(r.ok && 'pool' in r.request).toBe(false);
  });

  it('gives restore the sharing facts', () => {
    expect(restoreInfo(svc('a', { annotations: { 'metallb.io/allow-shared-ip': 'x' } }), {})).toMatchObject({
      sharingKey: 'x',
      ports: [{ protocol: 'TCP', port: 80 }],
      externalTrafficPolicy: 'Cluster',
    });
  });
});

describe('ingress', () => {
  it('reads IPs and writes VIP entries', () => {
    const s = svc('a', { ingress: ['10.0.0.1', 'fd00::1'] });
    s.status!.loadBalancer!.ingress!.push({ hostname: 'lb.example.com' });
    expect(ingressIPs(s)).toEqual(['10.0.0.1', 'fd00::1']);
    expect(ingressFor(['10.0.0.1'])).toEqual([{ ip: '10.0.0.1', ipMode: 'VIP' }]);
  });
});
