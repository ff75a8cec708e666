import { describe, expect, it } from '@jest/globals';
import { parseNodePortPool, parsePool } from '../../../operator/allocator/index.ts';
import type { NodePortPool, Pool } from '../../../operator/allocator/index.ts';
import {
  audit,
  findingKey,
  findingMessage,
  outsidePoolCondition,
} from '../../../operator/controllers/audit/findings.ts';
import type { AuditService, Finding } from '../../../operator/controllers/audit/findings.ts';

function ipPool(name: string, addresses: string[], spec: Record<string, unknown> = {}): Pool {
  const r = parsePool(name, { addresses, usage: 'ClusterIP', ...spec });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}
function portPool(name: string, ports: string[], spec: Record<string, unknown> = {}): NodePortPool {
  const r = parseNodePortPool(name, { ports, ...spec });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}
const svc = (ns: string, name: string, spec: AuditService['spec'], labels = {}): AuditService => ({
  metadata: { namespace: ns, name, uid: `${ns}-${name}`, labels },
  spec,
});

const tenant = ipPool('tenant', ['10.96.0.192/26', 'fd00::c0/122'], {
  serviceAllocation: { namespaces: ['team-a'] },
});
const ports = portPool('tenant-ports', ['31000-31099'], { serviceAllocation: { namespaces: ['team-a'] } });
const run = (services: AuditService[], ipPools: Pool[] = [tenant], portPools: NodePortPool[] = [ports]) =>
  audit({ services, namespaceLabels: () => ({}), ipPools, portPools });

describe('audit core', () => {
  it('flags a clusterIP outside the selecting pool, naming field, value and pool', () => {
    const r = run([svc('team-a', 'web', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'] })]);
    expect(r.findings).toEqual([
      {
        service: 'team-a/web',
        uid: 'team-a-web',
        field: 'spec.clusterIPs[0]',
        kind: 'clusterIP',
        value: '10.96.5.5',
        pool: 'tenant',
        poolKind: 'IPAddressPool',
      },
    ]);
  });

  it('does not flag values inside the pool, in unselected namespaces, or of a family the pool lacks', () => {
    const v4only = ipPool('v4', ['10.96.0.192/26'], { serviceAllocation: { namespaces: ['team-a'] } });
    const r = run(
      [
        svc('team-a', 'in', { clusterIPs: ['10.96.0.200'] }),
        svc('team-b', 'other', { clusterIPs: ['10.96.5.5'] }),
        svc('team-a', 'dual', { clusterIPs: ['10.96.0.201', 'fd00::5'] }),
      ],
      [v4only],
    );
    expect(r.findings).toEqual([]);
  });

  it('skips headless and ExternalName Services', () => {
    const r = run([
      svc('team-a', 'headless', { clusterIP: 'None', clusterIPs: ['None'] }),
      svc('team-a', 'ext', { type: 'ExternalName' }),
    ]);
    expect(r.findings).toEqual([]);
  });

  it('flags each nodePort outside the selecting NodePortPool and counts the ports in use', () => {
    const r = run([
      svc('team-a', 'np', {
        type: 'NodePort',
        clusterIPs: ['10.96.0.193'],
        ports: [
          { port: 80, nodePort: 31000 },
          { port: 443, nodePort: 30443 },
        ],
      }),
      svc('team-b', 'np', {
        type: 'NodePort',
        clusterIPs: ['10.96.9.9'],
        ports: [{ port: 80, nodePort: 31001 }],
      }),
    ]);
    expect(r.findings.map((f) => [f.field, f.value, f.pool])).toEqual([
      ['spec.ports[1].nodePort', '30443', 'tenant-ports'],
    ]);
    // Ports of the pool held by any Service count as used, selected or not.
    expect(r.portUsage.get('tenant-ports')).toBe(2);
    expect(r.ipUsage.get('tenant')).toEqual({ IPv4: 1n, IPv6: 0n });
  });

  it('counts each address of a pool once, per family', () => {
    const r = run([
      svc('team-a', 'a', { clusterIPs: ['10.96.0.193', 'fd00::c1'] }),
      svc('team-a', 'b', { clusterIPs: ['10.96.0.194'] }),
    ]);
    expect(r.ipUsage.get('tenant')).toEqual({ IPv4: 2n, IPv6: 1n });
  });

  it('names the first selecting pool by priority', () => {
    const low = ipPool('low', ['10.96.0.0/28'], {
      serviceAllocation: { priority: 1, namespaces: ['team-a'] },
    });
    const high = ipPool('high', ['10.96.0.16/28'], {
      serviceAllocation: { priority: 5, namespaces: ['team-a'] },
    });
    const r = run([svc('team-a', 'x', { clusterIPs: ['10.96.7.7'] })], [high, low]);
    expect(r.findings.map((f) => f.pool)).toEqual(['low']);
  });

  it('ignores LoadBalancer-usage pools', () => {
    const lb = parsePool('lb', {
      addresses: ['10.96.0.0/24'],
      serviceAllocation: { namespaces: ['team-a'] },
    });
    if (!lb.ok) throw new Error('bad pool');
    const r = run([svc('team-a', 'x', { clusterIPs: ['10.96.7.7'] })], [lb.value], []);
    expect(r.findings).toEqual([]);
    expect(r.ipUsage.size).toBe(0);
  });
});

const finding = (service: string, field = 'spec.clusterIPs[0]', value = '10.96.5.5'): Finding => ({
  service,
  field,
  kind: field.includes('nodePort') ? 'nodePort' : 'clusterIP',
  value,
  pool: 'tenant',
  poolKind: 'IPAddressPool',
});

describe('audit reporting', () => {
  it('sets ServicesOutsidePool False with no findings', () => {
    expect(outsidePoolCondition([])).toMatchObject({ status: 'False', reason: 'AllInside' });
  });

  it('counts Services and names a few findings', () => {
    const findings = Array.from({ length: 7 }, (_, i) => finding(`ns/s${i}`));
    findings.push(finding('ns/s0', 'spec.ports[0].nodePort', '30001'));
    const c = outsidePoolCondition(findings);
    expect(c).toMatchObject({ type: 'ServicesOutsidePool', status: 'True', reason: 'ValuesOutsidePool' });
    expect(c.message).toContain('7 Services');
    expect(c.message).toContain('8 findings');
    expect(c.message).toContain('ns/s0 spec.clusterIPs[0]=10.96.5.5');
    expect(c.message).toContain('and 3 more');
  });

  it('says in the Event which field, value and pool, and that nothing is changed', () => {
    const m = findingMessage(finding('ns/a'), 'portico-system');
    expect(m).toContain('spec.clusterIPs[0] 10.96.5.5 lies outside IPAddressPool portico-system/tenant');
    expect(m).toContain('Portico does not change it');
    expect(m).toContain('immutable');
  });

  it('keys a finding by Service, field, value and pool', () => {
    expect(findingKey(finding('ns/a'))).toBe(findingKey(finding('ns/a')));
    expect(findingKey(finding('ns/a'))).not.toBe(
      findingKey(finding('ns/a', 'spec.clusterIPs[0]', '10.96.5.6')),
    );
    expect(findingKey(finding('ns/a'))).not.toBe(findingKey(finding('ns/b')));
  });
});
