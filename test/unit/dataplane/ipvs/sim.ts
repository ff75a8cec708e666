// A stand-in for ipvsadm and ip, enough for IpvsBackend's unit tests: it
// keeps a table and a set of addresses, applies restore input and ip batches
// line by line, and prints them back as the real tools do. Not a test file.
import type { CommandResult, CommandRunner } from '../../../../speaker/dataplane/nftables/executor.ts';
import { parseSave, renderRestore } from '../../../../speaker/dataplane/ipvs/restore.ts';
import type { IpvsOp } from '../../../../speaker/dataplane/ipvs/restore.ts';
import { applyOps } from '../../../../speaker/dataplane/ipvs/plan.ts';
import { realKey, virtualKey } from '../../../../speaker/dataplane/ipvs/table.ts';
import type { IpvsEntry } from '../../../../speaker/dataplane/ipvs/table.ts';
import { IptablesSim } from './iptables-sim.ts';

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });

export class KernelSim {
  table = new Map<string, IpvsEntry>();
  device: Set<string> | null = null;
  /** Open connections by `<virtualKey> -> <realKey>`. */
  connections = new Map<string, number>();
  nftScripts: string[] = [];
  /** Whether `nft -c` takes an inet table (false: Debian's UML kernel). */
  nftInet = true;
  /** The legacy iptables of each family; null: the kernel has no ip_tables for it. */
  iptables: Record<4 | 6, IptablesSim | null> = { 4: new IptablesSim(), 6: new IptablesSim() };
  /** Which iptables tool names exist: the legacy ones, the plain ones. */
  tools = { legacy: true, plain: true };
  calls: string[] = [];
  failNext: string | null = null;

  /** iptables(-legacy)-save/-restore for a family, when that tool exists. */
  #iptables(tool: string): { sim: IptablesSim | null; kind: 'save' | 'restore' } | null {
    const m = /^(ip6?)tables(-legacy)?-(save|restore)$/.exec(tool);
    if (!m || !(m[2] ? this.tools.legacy : this.tools.plain)) return null;
    return { sim: this.iptables[m[1] === 'ip6' ? 6 : 4], kind: m[3] === 'save' ? 'save' : 'restore' };
  }

  readonly run: CommandRunner = async (argv, input) => {
    const cmd = argv.join(' ');
    this.calls.push(cmd);
    if (this.failNext && cmd.includes(this.failNext)) {
      this.failNext = null;
      return { code: 1, stdout: '', stderr: 'simulated failure' };
    }
    if (cmd === 'ipvsadm -Sn') return ok(this.save());
    if (cmd === 'ipvsadm -Ln') return ok(this.list());
    if (cmd === 'ipvsadm --restore') return this.restore(input ?? '');
    if (cmd === 'ip -batch -') return this.batch(input ?? '');
    if (cmd.startsWith('ip -j addr show dev ')) {
      if (this.device === null) return { code: 1, stdout: '', stderr: 'Device "x" does not exist.' };
      const name = argv[argv.length - 1];
      return ok(
        JSON.stringify([
          { ifname: name, addr_info: [...this.device].map((local) => ({ local, scope: 'global' })) },
        ]),
      );
    }
    if (cmd === 'nft -f -') {
      this.nftScripts.push(input ?? '');
      return ok();
    }
    if (cmd === 'nft -c -f -') {
      if (this.nftInet) return ok();
      return { code: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not supported' };
    }
    const ipt = this.#iptables(argv[0] ?? '');
    if (ipt) {
      if (ipt.sim === null)
        return {
          code: 3,
          stdout: '',
          stderr: `${argv[0]} v1.8.9 (legacy): can't initialize: Table does not exist`,
        };
      if (ipt.kind === 'save' && argv[1] === '-t') return ipt.sim.save(argv[2] ?? '');
      if (ipt.kind === 'restore' && argv.slice(1).join(' ') === '-w 5 --noflush')
        return ipt.sim.restore(input ?? '');
    }
    return { code: 127, stdout: '', stderr: `unknown command ${cmd}` };
  };

  save(): string {
    const ops: IpvsOp[] = [];
    for (const e of this.table.values()) {
      ops.push({ op: 'add-virtual', virtual: e.virtual });
      for (const real of e.reals) ops.push({ op: 'add-real', virtual: e.virtual, real });
    }
    return renderRestore(ops);
  }

  list(): string {
    const lines = ['IP Virtual Server version 1.2.1 (size=4096)'];
    for (const e of this.table.values()) {
      const v = e.virtual;
      lines.push(`${v.protocol}  ${v.vip}:${v.port} ${v.scheduler}`);
      for (const r of e.reals) {
        const n = this.connections.get(`${virtualKey(v)} -> ${realKey(r)}`) ?? 0;
        lines.push(`  -> ${realKey(r)}  Masq  ${r.weight}  ${n}  0`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  restore(text: string): CommandResult {
    // Each line as its own op, parsed back through the same format the backend writes.
    for (const line of text.split('\n').filter(Boolean)) {
      const [cmd, ...rest] = line.split(' ');
      const addLine = `-A ${rest.join(' ')}`;
      const parsed = parseSave(
        cmd === '-A' || cmd === '-E' ? addLine : `${this.save()}${line.replace(/^-[aed]/, '-a')}`,
      );
      const key = rest.slice(0, 2).join(' ');
      const virtual = parsed.get(key)?.virtual ?? this.table.get(key)?.virtual;
      if (!virtual) return { code: 1, stdout: '', stderr: `no service for ${line}` };
      if (cmd === '-A' && this.table.has(key))
        return { code: 1, stdout: '', stderr: 'Service already exists' };
      const rIndex = rest.indexOf('-r');
      const w = rest.indexOf('-w');
      const [ip, port] = (rest[rIndex + 1] ?? '').split(':');
      const real = { ip: ip ?? '', port: Number(port), weight: w >= 0 ? Number(rest[w + 1]) : 1 };
      const op: IpvsOp =
        cmd === '-A'
          ? { op: 'add-virtual', virtual }
          : cmd === '-E'
            ? { op: 'edit-virtual', virtual }
            : cmd === '-D'
              ? { op: 'delete-virtual', virtual }
              : cmd === '-a'
                ? { op: 'add-real', virtual, real }
                : cmd === '-e'
                  ? { op: 'edit-real', virtual, real }
                  : { op: 'delete-real', virtual, real };
      this.table = applyOps(this.table, [op]);
    }
    return ok();
  }

  batch(text: string): CommandResult {
    for (const line of text.split('\n').filter(Boolean)) {
      const words = line.split(' ');
      if (words[0] === 'link' && words[1] === 'add') this.device = new Set();
      else if (words[0] === 'address') {
        if (this.device === null) return { code: 1, stdout: '', stderr: 'Cannot find device' };
        const ip = (words[2] ?? '').split('/')[0] ?? '';
        if (words[1] === 'add') this.device.add(ip);
        else this.device.delete(ip);
      }
    }
    return ok();
  }
}
