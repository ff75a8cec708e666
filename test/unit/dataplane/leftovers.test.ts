// The cleanup of Portico's other data path modes (leftovers.ts): the pure
// planner over every mode and every combination of what a node can hold, the
// parsers of the tools' output, and the adapter with a fake command runner.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Logger } from 'pino';
import {
  NOTHING_OBSERVED,
  cleanupLeftovers,
  deviceVips,
  hasLink,
  inetTables,
  leftoverKinds,
  observeLeftovers,
  planLeftovers,
  porticoVirtuals,
} from '../../../speaker/dataplane/leftovers.ts';
import type { LeftoverMode, LeftoverObservation } from '../../../speaker/dataplane/leftovers.ts';
import type { CommandRunner } from '../../../speaker/dataplane/nftables/executor.ts';
import { OptionsError, parseOptions } from '../../../speaker/options.ts';

const MODES: LeftoverMode[] = ['none', 'nftables', 'ipvs'];
const NS = ['ip', 'netns', 'exec', 'n1'];

const link = (index: number, name: string): string =>
  `${index}: ${name}: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ether 5a:9d:1c:00:00:0${index} brd ff:ff:ff:ff:ff:ff`;
const LO =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00';
const LINKS_WITH_DEVICE = [LO, link(2, 'eth0'), link(5, 'kube-ipvs0'), link(7, 'portico-ipvs0')].join('\n');
const LINKS_WITHOUT_DEVICE = [LO, link(2, 'eth0'), link(5, 'kube-ipvs0'), link(6, 'portico-ipvs01')].join(
  '\n',
);

function addrJson(device: string, addrs: { local: string; scope?: string }[]): string {
  return JSON.stringify([
    {
      ifindex: 7,
      ifname: device,
      flags: ['BROADCAST', 'NOARP', 'UP', 'LOWER_UP'],
      addr_info: addrs.map((a) => ({
        family: a.local.includes(':') ? 'inet6' : 'inet',
        local: a.local,
        prefixlen: a.local.includes(':') ? 128 : 32,
        scope: a.scope ?? 'global',
      })),
    },
  ]);
}

const DEVICE_ADDRS = addrJson('portico-ipvs0', [
  { local: '192.0.2.10' },
  { local: '2001:db8:3::10' },
  { local: 'fe80::1', scope: 'link' },
]);

// Portico's (on portico-ipvs0), kube-proxy's (10.96.0.1 on kube-ipvs0), a NodePort
// on a node address, and a firewall-mark service: only the first two lines are Portico's.
const SAVE = [
  '-A -t 192.0.2.10:80 -s rr',
  '-a -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 1',
  '-a -t 192.0.2.10:80 -r 198.51.100.12:8080 -m -w 0',
  '-A -u 192.0.2.10:53 -s rr -p 10800',
  '-A -t [2001:db8:3::10]:80 -s rr',
  '-a -t [2001:db8:3::10]:80 -r [2001:db8:1::11]:8080 -m -w 1',
  '-A -t 10.96.0.1:443 -s rr',
  '-a -t 10.96.0.1:443 -r 203.0.113.5:6443 -m -w 1',
  '-A -t 203.0.113.1:30080 -s rr',
  '-A -f 7 -s rr',
  '',
].join('\n');

const TABLES = [
  'table inet portico',
  'table inet portico-ipvs',
  'table ip portico',
  'table inet someone-else',
  'table ip kube-proxy',
  'table inet portico2',
  '',
].join('\n');

const EVERYTHING: LeftoverObservation = {
  nftTables: TABLES,
  links: LINKS_WITH_DEVICE,
  deviceAddresses: DEVICE_ADDRS,
  ipvsSave: SAVE,
};

const IPVS_RESTORE = '-D -t 192.0.2.10:80\n-D -t [2001:db8:3::10]:80\n-D -u 192.0.2.10:53\n';

describe('leftoverKinds', () => {
  it('each mode removes the state of the other modes only', () => {
    expect(leftoverKinds('none')).toEqual({ nftables: true, ipvs: true });
    expect(leftoverKinds('nftables')).toEqual({ nftables: false, ipvs: true });
    expect(leftoverKinds('ipvs')).toEqual({ nftables: true, ipvs: false });
  });
});

describe('the parsers', () => {
  it('inetTables reads `nft list tables`, inet family only, exact names', () => {
    expect([...inetTables(TABLES)].sort()).toEqual(['portico', 'portico-ipvs', 'portico2', 'someone-else']);
    expect([...inetTables('table ip portico\ntable ip6 portico-ipvs\n')]).toEqual([]);
    expect([...inetTables('')]).toEqual([]);
    expect([...inetTables(null)]).toEqual([]);
    // a ruleset listing (`nft list ruleset`) works as well
    expect([...inetTables('table inet portico {\n\tchain x {\n\t}\n}\n')]).toEqual(['portico']);
  });

  it('hasLink finds portico-ipvs0 in `ip -o link show`, and not a longer name nor kube-ipvs0', () => {
    expect(hasLink(LINKS_WITH_DEVICE)).toBe(true);
    expect(hasLink(LINKS_WITHOUT_DEVICE)).toBe(false);
    expect(hasLink(null)).toBe(false);
    expect(hasLink('')).toBe(false);
    expect(hasLink(LINKS_WITH_DEVICE, 'kube-ipvs0')).toBe(true);
    expect(hasLink('9: portico-ipvs0@NONE: <BROADCAST> mtu 1500')).toBe(true);
  });

  it('deviceVips: the global addresses of the device, canonical; nothing from garbage', () => {
    expect([...deviceVips(DEVICE_ADDRS)].sort()).toEqual(['192.0.2.10', '2001:db8:3::10']);
    expect([...deviceVips(addrJson('portico-ipvs0', [{ local: '2001:0db8:0003:0::0010' }]))]).toEqual([
      '2001:db8:3::10',
    ]);
    expect([...deviceVips(addrJson('kube-ipvs0', [{ local: '10.96.0.1' }]))]).toEqual([]);
    expect([...deviceVips('not json')]).toEqual([]);
    expect([...deviceVips('')]).toEqual([]);
    expect([...deviceVips('{}')]).toEqual([]);
    expect([...deviceVips(null)]).toEqual([]);
  });

  it('porticoVirtuals: only virtual servers whose VIP is on the device', () => {
    const vips = deviceVips(DEVICE_ADDRS);
    expect(porticoVirtuals(SAVE, vips).map((v) => `${v.protocol} ${v.vip}:${v.port}`)).toEqual([
      'TCP 192.0.2.10:80',
      'TCP 2001:db8:3::10:80',
      'UDP 192.0.2.10:53',
    ]);
    expect(porticoVirtuals(SAVE, new Set())).toEqual([]);
    expect(porticoVirtuals(null, vips)).toEqual([]);
    expect(porticoVirtuals('', vips)).toEqual([]);
    // a real server before its virtual server is not ipvsadm's output: touch nothing
    expect(porticoVirtuals('-a -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 1\n', vips)).toEqual([]);
  });
});

describe('planLeftovers', () => {
  it('mode none removes everything that is Portico, in order: virtual servers, tables, device', () => {
    expect(planLeftovers('none', EVERYTHING)).toEqual([
      {
        removes: [
          'IPVS virtual server -t 192.0.2.10:80',
          'IPVS virtual server -t [2001:db8:3::10]:80',
          'IPVS virtual server -u 192.0.2.10:53',
        ],
        argv: ['ipvsadm', '--restore'],
        input: IPVS_RESTORE,
      },
      { removes: ['nftables table inet portico'], argv: ['nft', 'delete', 'table', 'inet', 'portico'] },
      {
        removes: ['nftables table inet portico-ipvs'],
        argv: ['nft', 'delete', 'table', 'inet', 'portico-ipvs'],
      },
      {
        removes: ['interface portico-ipvs0'],
        argv: ['ip', 'link', 'del', 'portico-ipvs0'],
        skipIfIpvsFailed: true,
      },
    ]);
  });

  it('mode nftables removes the IPVS leftovers and keeps table inet portico', () => {
    expect(planLeftovers('nftables', EVERYTHING).map((s) => s.argv.join(' '))).toEqual([
      'ipvsadm --restore',
      'nft delete table inet portico-ipvs',
      'ip link del portico-ipvs0',
    ]);
  });

  it('mode ipvs removes table inet portico only', () => {
    expect(planLeftovers('ipvs', EVERYTHING)).toEqual([
      { removes: ['nftables table inet portico'], argv: ['nft', 'delete', 'table', 'inet', 'portico'] },
    ]);
  });

  it('a clean node, or one where every tool failed, needs nothing in any mode', () => {
    for (const mode of MODES) {
      expect(planLeftovers(mode, NOTHING_OBSERVED)).toEqual([]);
      expect(
        planLeftovers(mode, {
          nftTables: 'table inet someone-else\ntable ip kube-proxy\n',
          links: LINKS_WITHOUT_DEVICE,
          deviceAddresses: null,
          ipvsSave: '-A -t 10.96.0.1:443 -s rr\n',
        }),
      ).toEqual([]);
    }
  });

  it('without the device, no virtual server is Portico (not even one on a former VIP)', () => {
    const obs = { ...EVERYTHING, links: LINKS_WITHOUT_DEVICE, deviceAddresses: null };
    expect(planLeftovers('none', obs).map((s) => s.argv.join(' '))).toEqual([
      'nft delete table inet portico',
      'nft delete table inet portico-ipvs',
    ]);
  });

  it('a device with no addresses is removed, and no virtual server with it', () => {
    const obs = { ...EVERYTHING, deviceAddresses: addrJson('portico-ipvs0', []) };
    expect(planLeftovers('nftables', obs).map((s) => s.argv.join(' '))).toEqual([
      'nft delete table inet portico-ipvs',
      'ip link del portico-ipvs0',
    ]);
  });

  it('ipvsadm missing or ip_vs not loaded: the tables and the device still go', () => {
    const obs = { ...EVERYTHING, ipvsSave: null };
    expect(planLeftovers('none', obs).map((s) => s.argv.join(' '))).toEqual([
      'nft delete table inet portico',
      'nft delete table inet portico-ipvs',
      'ip link del portico-ipvs0',
    ]);
  });

  it('nft missing: the IPVS leftovers still go', () => {
    const obs = { ...EVERYTHING, nftTables: null };
    expect(planLeftovers('none', obs).map((s) => s.argv.join(' '))).toEqual([
      'ipvsadm --restore',
      'ip link del portico-ipvs0',
    ]);
    expect(planLeftovers('ipvs', obs)).toEqual([]);
  });

  it('every mode, every combination of what the node holds', () => {
    const device = (has: boolean): Pick<LeftoverObservation, 'links' | 'deviceAddresses'> =>
      has
        ? { links: LINKS_WITH_DEVICE, deviceAddresses: DEVICE_ADDRS }
        : { links: LINKS_WITHOUT_DEVICE, deviceAddresses: null };
    for (const mode of MODES) {
      for (let bits = 0; bits < 16; bits++) {
        const [nft, companion, dev, vs] = [1, 2, 4, 8].map((b) => (bits & b) !== 0);
        const obs: LeftoverObservation = {
          nftTables: [
            'table inet someone-else',
            ...(nft ? ['table inet portico'] : []),
            ...(companion ? ['table inet portico-ipvs'] : []),
          ].join('\n'),
          ...device(dev === true),
          ipvsSave: vs ? SAVE : '-A -t 10.96.0.1:443 -s rr\n',
        };
        const want: string[] = [];
        if (mode !== 'ipvs' && dev && vs) want.push('ipvsadm --restore');
        if (mode !== 'nftables' && nft) want.push('nft delete table inet portico');
        if (mode !== 'ipvs' && companion) want.push('nft delete table inet portico-ipvs');
        if (mode !== 'ipvs' && dev) want.push('ip link del portico-ipvs0');
        expect({ mode, bits, steps: planLeftovers(mode, obs).map((s) => s.argv.join(' ')) }).toEqual({
          mode,
          bits,
          steps: want,
        });
      }
    }
  });

  it('property: only Portico things of the other modes are ever named', () => {
    const name = fc.constantFrom(
      'portico',
      'portico-ipvs',
      'someone-else',
      'kube-proxy',
      'portico2',
      'filter',
    );
    const family = fc.constantFrom('inet', 'ip', 'ip6', 'bridge');
    const ip = fc.constantFrom('192.0.2.10', '192.0.2.11', '10.96.0.1', '203.0.113.1', '2001:db8:3::10');
    const vs = fc.record({
      proto: fc.constantFrom('-t', '-u'),
      ip,
      port: fc.integer({ min: 1, max: 65535 }),
    });
    const arb = fc.record({
      mode: fc.constantFrom<LeftoverMode>(...MODES),
      tables: fc.array(fc.tuple(family, name), { maxLength: 8 }),
      device: fc.boolean(),
      vips: fc.uniqueArray(ip, { maxLength: 4 }),
      virtuals: fc.array(vs, { maxLength: 8 }),
    });
    fc.assert(
      fc.property(arb, ({ mode, tables, device, vips, virtuals }) => {
        const hostPort = (v: { ip: string; port: number }) =>
          v.ip.includes(':') ? `[${v.ip}]:${v.port}` : `${v.ip}:${v.port}`;
        const obs: LeftoverObservation = {
          nftTables: tables.map(([f, n]) => `table ${f} ${n}`).join('\n'),
          links: device ? LINKS_WITH_DEVICE : LINKS_WITHOUT_DEVICE,
          deviceAddresses: device
            ? addrJson(
                'portico-ipvs0',
                vips.map((local) => ({ local })),
              )
            : null,
          ipvsSave: virtuals.map((v) => `-A ${v.proto} ${hostPort(v)} -s rr`).join('\n'),
        };
        const steps = planLeftovers(mode, obs);
        // Complete as well: every Portico virtual server of another mode goes.
        const ours = new Set(
          device && mode !== 'ipvs'
            ? virtuals.filter((v) => vips.includes(v.ip)).map((v) => `-D ${v.proto} ${hostPort(v)}`)
            : [],
        );
        const deleted = steps.flatMap((s) =>
          s.argv[0] === 'ipvsadm' ? (s.input ?? '').trim().split('\n') : [],
        );
        expect(new Set(deleted)).toEqual(ours);
        for (const step of steps) {
          const cmd = step.argv.join(' ');
          if (step.argv[0] === 'nft') {
            const table = step.argv[4];
            expect(cmd).toMatch(/^nft delete table inet (portico|portico-ipvs)$/);
            expect(tables.some(([f, n]) => f === 'inet' && n === table)).toBe(true);
            expect(table === 'portico' ? mode !== 'nftables' : mode !== 'ipvs').toBe(true);
          } else if (step.argv[0] === 'ipvsadm') {
            expect(mode).not.toBe('ipvs');
            expect(device).toBe(true);
            const lines = (step.input ?? '').trim().split('\n');
            expect(lines.length).toBe(step.removes.length);
            for (const line of lines) {
              const m = /^-D (-t|-u) \[?([^\]]+?)\]?:(\d+)$/.exec(line);
              expect(m).not.toBeNull();
              expect(vips).toContain(m?.[2]);
            }
          } else {
            expect(cmd).toBe('ip link del portico-ipvs0');
            expect(mode).not.toBe('ipvs');
            expect(device).toBe(true);
          }
        }
      }),
    );
  });
});

/** A fake node: answers the read commands from `obs`, records every command. */
function fakeNode(
  obs: LeftoverObservation,
  fail: (argv: readonly string[]) => string | null = () => null,
): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = async (argv, input) => {
    calls.push(`${argv.join(' ')}${input ? ` <${input.trim().split('\n').join('; ')}` : ''}`);
    const cmd = argv.slice(NS.length).join(' ');
    const failure = fail(argv.slice(NS.length));
    if (failure === 'ENOENT') throw new Error(`spawn ${argv[NS.length]} ENOENT`);
    if (failure !== null) return { code: 1, stdout: '', stderr: failure };
    const text: Record<string, string | null> = {
      'nft list tables': obs.nftTables,
      'ip -o link show': obs.links,
      'ip -j addr show dev portico-ipvs0': obs.deviceAddresses,
      'ipvsadm -Sn': obs.ipvsSave,
      'test -e /proc/net/ip_vs': '',
    };
    if (cmd in text) {
      const out = text[cmd];
      return out === null || out === undefined
        ? { code: 1, stdout: '', stderr: 'failed' }
        : { code: 0, stdout: out, stderr: '' };
    }
    return { code: 0, stdout: '', stderr: '' };
  };
  return { run, calls };
}

function fakeLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
    };
  return { logger: { info: at('info'), warn: at('warn') } as unknown as Logger, lines };
}

describe('observeLeftovers', () => {
  it('mode ipvs reads only the nftables tables', async () => {
    const { run, calls } = fakeNode(EVERYTHING);
    expect(await observeLeftovers('ipvs', run, NS)).toEqual({ ...NOTHING_OBSERVED, nftTables: TABLES });
    expect(calls).toEqual(['ip netns exec n1 nft list tables']);
  });

  it('modes none and nftables read the device, then ipvsadm, all behind the prefix', async () => {
    for (const mode of ['none', 'nftables'] as const) {
      const { run, calls } = fakeNode(EVERYTHING);
      expect(await observeLeftovers(mode, run, NS)).toEqual(EVERYTHING);
      expect(calls).toEqual([
        'ip netns exec n1 nft list tables',
        'ip netns exec n1 ip -o link show',
        'ip netns exec n1 ip -j addr show dev portico-ipvs0',
        'ip netns exec n1 test -e /proc/net/ip_vs',
        'ip netns exec n1 ipvsadm -Sn',
      ]);
    }
  });

  it('never runs ipvsadm (which would load ip_vs) unless portico-ipvs0 holds addresses', async () => {
    const noDevice = fakeNode({ ...EVERYTHING, links: LINKS_WITHOUT_DEVICE });
    await observeLeftovers('none', noDevice.run, NS);
    expect(noDevice.calls.some((c) => c.includes('ipvsadm'))).toBe(false);
    expect(noDevice.calls.some((c) => c.includes('addr show'))).toBe(false);
    const empty = fakeNode({ ...EVERYTHING, deviceAddresses: addrJson('portico-ipvs0', []) });
    await observeLeftovers('none', empty.run, NS);
    expect(empty.calls.some((c) => c.includes('ipvsadm'))).toBe(false);
    const notLoaded = fakeNode(EVERYTHING, (argv) =>
      argv.join(' ') === 'test -e /proc/net/ip_vs' ? '' : null,
    );
    expect(await observeLeftovers('none', notLoaded.run, NS)).toEqual({ ...EVERYTHING, ipvsSave: null });
    expect(notLoaded.calls.some((c) => c.includes('ipvsadm'))).toBe(false);
  });

  it('missing tools count as nothing observed', async () => {
    const { run } = fakeNode(EVERYTHING, (argv) =>
      argv[0] === 'ipvsadm' || argv[0] === 'nft' ? 'ENOENT' : null,
    );
    expect(await observeLeftovers('none', run, NS)).toEqual({
      ...EVERYTHING,
      nftTables: null,
      ipvsSave: null,
    });
  });
});

describe('cleanupLeftovers', () => {
  it('mode none: removes everything Portico, logs each item, behind the prefix', async () => {
    const { run, calls } = fakeNode(EVERYTHING);
    const { logger, lines } = fakeLogger();
    const result = await cleanupLeftovers({ mode: 'none', run, prefix: NS, logger });
    expect(result.failed).toEqual([]);
    expect(result.removed).toEqual([
      'IPVS virtual server -t 192.0.2.10:80',
      'IPVS virtual server -t [2001:db8:3::10]:80',
      'IPVS virtual server -u 192.0.2.10:53',
      'nftables table inet portico',
      'nftables table inet portico-ipvs',
      'interface portico-ipvs0',
    ]);
    expect(calls.slice(5)).toEqual([
      'ip netns exec n1 ipvsadm --restore <-D -t 192.0.2.10:80; -D -t [2001:db8:3::10]:80; -D -u 192.0.2.10:53',
      'ip netns exec n1 nft delete table inet portico',
      'ip netns exec n1 nft delete table inet portico-ipvs',
      'ip netns exec n1 ip link del portico-ipvs0',
    ]);
    expect(lines).toHaveLength(6);
    expect(lines.every((l) => l.startsWith('info removed a leftover of another data path mode'))).toBe(true);
    expect(lines[3]).toContain('"item":"nftables table inet portico"');
  });

  it('a clean node: reads, removes nothing, logs nothing', async () => {
    const { run, calls } = fakeNode(NOTHING_OBSERVED);
    const { logger, lines } = fakeLogger();
    expect(await cleanupLeftovers({ mode: 'nftables', run, logger })).toEqual({ removed: [], failed: [] });
    expect(calls).toEqual(['nft list tables', 'ip -o link show']);
    expect(lines).toEqual([]);
  });

  it('a failed step is a warning; the others still run and nothing throws', async () => {
    const { run, calls } = fakeNode(EVERYTHING, (argv) =>
      argv.join(' ') === 'nft delete table inet portico-ipvs'
        ? 'Error: Could not process rule: Device or resource busy'
        : argv[0] === 'ip' && argv[1] === 'link' && argv[2] === 'del'
          ? 'ENOENT'
          : null,
    );
    const { logger, lines } = fakeLogger();
    const result = await cleanupLeftovers({ mode: 'none', run, prefix: NS, logger });
    expect(result.removed).toEqual([
      'IPVS virtual server -t 192.0.2.10:80',
      'IPVS virtual server -t [2001:db8:3::10]:80',
      'IPVS virtual server -u 192.0.2.10:53',
      'nftables table inet portico',
    ]);
    expect(result.failed.map((f) => f.removes)).toEqual([
      ['nftables table inet portico-ipvs'],
      ['interface portico-ipvs0'],
    ]);
    expect(result.failed[0]?.error).toMatch(/exit 1: Error: Could not process rule: Device or resource busy/);
    expect(result.failed[1]?.error).toMatch(/ENOENT/);
    expect(calls.at(-1)).toBe('ip netns exec n1 ip link del portico-ipvs0');
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(2);
  });

  it('when the virtual servers could not be removed, the device stays: it is how they are recognised', async () => {
    const { run, calls } = fakeNode(EVERYTHING, (argv) =>
      argv[0] === 'ipvsadm' && argv[1] === '--restore' ? 'Memory allocation problem' : null,
    );
    const { logger, lines } = fakeLogger();
    const result = await cleanupLeftovers({ mode: 'nftables', run, prefix: NS, logger });
    expect(result.removed).toEqual(['nftables table inet portico-ipvs']);
    expect(result.failed.map((f) => f.removes.length)).toEqual([3]);
    expect(calls.some((c) => c.includes('ip link del'))).toBe(false);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(2);
  });

  it('a runner that throws on everything: nothing removed, nothing thrown', async () => {
    const run: CommandRunner = async () => {
      throw new Error('spawn ENOENT');
    };
    for (const mode of MODES)
      expect(await cleanupLeftovers({ mode, run })).toEqual({ removed: [], failed: [] });
  });

  it('mode ipvs leaves the IPVS state alone', async () => {
    const { run, calls } = fakeNode(EVERYTHING);
    const result = await cleanupLeftovers({ mode: 'ipvs', run, prefix: NS });
    expect(result.removed).toEqual(['nftables table inet portico']);
    expect(calls).toEqual([
      'ip netns exec n1 nft list tables',
      'ip netns exec n1 nft delete table inet portico',
    ]);
  });
});

describe('--cleanup-leftovers', () => {
  it('is on by default, and can be turned off', () => {
    expect(parseOptions(['--node-name=a'], {}).dataplane.cleanupLeftovers).toBe(true);
    expect(parseOptions(['--node-name=a', '--cleanup-leftovers=false'], {}).dataplane.cleanupLeftovers).toBe(
      false,
    );
    expect(parseOptions(['--node-name=a', '--cleanup-leftovers=off'], {}).dataplane.cleanupLeftovers).toBe(
      false,
    );
    expect(parseOptions(['--node-name=a', '--cleanup-leftovers=true'], {}).dataplane.cleanupLeftovers).toBe(
      true,
    );
    expect(() => parseOptions(['--node-name=a', '--cleanup-leftovers=maybe'], {})).toThrow(OptionsError);
    expect(() => parseOptions(['--node-name=a', '--cleanup-leftovers=maybe'], {})).toThrow(
      /--cleanup-leftovers/,
    );
  });
});
