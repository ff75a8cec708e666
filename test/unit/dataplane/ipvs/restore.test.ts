import { describe, expect, it } from '@jest/globals';
import {
  parseConnections,
  parseHostPort,
  parseSave,
  renderOp,
  renderRestore,
} from '../../../../speaker/dataplane/ipvs/restore.ts';
import type { IpvsVirtual } from '../../../../speaker/dataplane/ipvs/table.ts';

const web: IpvsVirtual = { protocol: 'TCP', vip: '192.0.2.10', port: 80, scheduler: 'rr', persistence: null };
const sticky: IpvsVirtual = { ...web, vip: '192.0.2.11', persistence: 10800 };
const dns6: IpvsVirtual = {
  protocol: 'UDP',
  vip: '2001:db8:3::a',
  port: 53,
  scheduler: 'sh',
  persistence: null,
};
const sctp: IpvsVirtual = {
  protocol: 'SCTP',
  vip: '192.0.2.12',
  port: 9,
  scheduler: 'rr',
  persistence: null,
};
const pod = { ip: '198.51.100.11', port: 8080, weight: 1 };

describe('renderOp', () => {
  it('writes ipvsadm restore lines, masquerading, with persistence and IPv6 brackets', () => {
    expect(renderOp({ op: 'add-virtual', virtual: web })).toBe('-A -t 192.0.2.10:80 -s rr');
    expect(renderOp({ op: 'add-virtual', virtual: sticky })).toBe('-A -t 192.0.2.11:80 -s rr -p 10800');
    expect(renderOp({ op: 'edit-virtual', virtual: dns6 })).toBe('-E -u [2001:db8:3::a]:53 -s sh');
    expect(renderOp({ op: 'delete-virtual', virtual: sctp })).toBe('-D --sctp-service 192.0.2.12:9');
    expect(renderOp({ op: 'add-real', virtual: web, real: pod })).toBe(
      '-a -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 1',
    );
    expect(renderOp({ op: 'edit-real', virtual: web, real: { ...pod, weight: 0 } })).toBe(
      '-e -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 0',
    );
    expect(
      renderOp({ op: 'delete-real', virtual: dns6, real: { ip: '2001:db8:1::11', port: 53, weight: 1 } }),
    ).toBe('-d -u [2001:db8:3::a]:53 -r [2001:db8:1::11]:53');
  });

  it('an empty batch is an empty input (ipvsadm is not run)', () => {
    expect(renderRestore([])).toBe('');
    expect(renderRestore([{ op: 'delete-virtual', virtual: web }])).toBe('-D -t 192.0.2.10:80\n');
  });
});

describe('parseSave', () => {
  it('reads what ipvsadm -Sn prints (as seen in the UML guest), real servers sorted', () => {
    const text = [
      '-A -t 192.0.2.11:80 -s rr -p 10800',
      '-a -t 192.0.2.11:80 -r 198.51.100.12:8080 -m -w 1',
      '-a -t 192.0.2.11:80 -r 198.51.100.11:8080 -m -w 0',
      '-A --sctp-service 192.0.2.12:9 -s rr',
      '-A -u [2001:db8:3::a]:53 -s sh',
      '-A -f 7 -s rr',
      '',
    ].join('\n');
    const table = parseSave(text);
    expect([...table.keys()]).toEqual([
      '-t 192.0.2.11:80',
      '--sctp-service 192.0.2.12:9',
      '-u [2001:db8:3::a]:53',
    ]);
    expect(table.get('-t 192.0.2.11:80')).toEqual({
      virtual: sticky,
      reals: [
        { ip: '198.51.100.11', port: 8080, weight: 0 },
        { ip: '198.51.100.12', port: 8080, weight: 1 },
      ],
    });
    expect(table.get('-u [2001:db8:3::a]:53')?.virtual).toEqual(dns6);
    expect(table.get('--sctp-service 192.0.2.12:9')).toEqual({ virtual: sctp, reals: [] });
  });

  it('round-trips what renderRestore writes', () => {
    const text = renderRestore([
      { op: 'add-virtual', virtual: sticky },
      { op: 'add-real', virtual: sticky, real: pod },
      { op: 'add-virtual', virtual: dns6 },
    ]);
    const table = parseSave(text);
    expect(table.get('-t 192.0.2.11:80')).toEqual({ virtual: sticky, reals: [pod] });
    expect(table.get('-u [2001:db8:3::a]:53')).toEqual({ virtual: dns6, reals: [] });
  });

  it('refuses a real server listed before its virtual server', () => {
    expect(() => parseSave('-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n')).toThrow(
      /unknown virtual server/,
    );
  });

  it('parses host:port with canonical IPv6', () => {
    expect(parseHostPort('[2001:DB8:0::1]:80')).toEqual({ ip: '2001:db8::1', port: 80 });
    expect(parseHostPort('192.0.2.1:8080')).toEqual({ ip: '192.0.2.1', port: 8080 });
    expect(parseHostPort('nonsense')).toBeNull();
  });
});

describe('parseConnections', () => {
  it('sums active and inactive connections per real server of ipvsadm -Ln', () => {
    const text = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  192.0.2.13:80 rr',
      '  -> 198.51.100.12:8080           Masq    1      0          20        ',
      '  -> 198.51.100.13:8080           Masq    0      1          0         ',
      'UDP  [2001:db8:3::a]:53 rr persistent 10800',
      '  -> [2001:db8:1::11]:53          Masq    1      0          3         ',
      '',
    ].join('\n');
    expect(parseConnections(text)).toEqual(
      new Map([
        ['-t 192.0.2.13:80 -> 198.51.100.12:8080', 20],
        ['-t 192.0.2.13:80 -> 198.51.100.13:8080', 1],
        ['-u [2001:db8:3::a]:53 -> [2001:db8:1::11]:53', 3],
      ]),
    );
  });
});
