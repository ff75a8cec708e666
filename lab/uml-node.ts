// Runs inside a User-Mode Linux guest, as one node of the IPVS lab
// (`npm run lab -- --dataplane ipvs`). The guest's eth0 is a tap on the lab's
// LAN bridge. This program makes the guest a node: its LAN address and routes,
// a pod namespace serving "Hello from <pod>", a relay that makes the apiserver
// reachable at the kubeconfig's loopback address, a command channel through
// the shared (hostfs) state directory so the host can run checks on the node,
// and the real speaker with the IPVS data path. It runs until the host kills
// the guest.
//
//   node lab/uml-node.ts <config.json>      (written by lab/uml-nodes.ts)
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { splice } from '../test/harness/splice.ts';

export interface UmlNodeConfig {
  readonly ip: string;
  readonly prefix: number;
  readonly gateway: string;
  /** The pod this node hosts, and the /24 it lives in. */
  readonly pod: { readonly name: string; readonly ip: string; readonly cidr: string };
  readonly podPort: number;
  readonly helloServer: string;
  /** Other nodes' pod ranges, routed over the LAN (a host-gateway CNI). */
  readonly routes: readonly { readonly cidr: string; readonly via: string }[];
  /** Listen here (the kubeconfig's address) and relay to the host's side. */
  readonly relay: { readonly listenPort: number; readonly host: string; readonly port: number };
  readonly speaker: readonly string[];
  readonly speakerLog: string;
  /** Where the host drops `<id>.cmd.json` and reads `<id>.result.json`. */
  readonly commandDir: string;
}

const exec = promisify(execFile);

async function sh(argv: readonly string[]): Promise<void> {
  await exec(argv[0]!, argv.slice(1));
}

async function network(c: UmlNodeConfig): Promise<void> {
  const gateway = c.pod.cidr.replace(/\.0\/24$/, '.1');
  for (const argv of [
    ['ip', 'link', 'set', 'eth0', 'up'],
    ['ip', 'addr', 'add', `${c.ip}/${c.prefix}`, 'dev', 'eth0'],
    ['ip', 'route', 'add', 'default', 'via', c.gateway],
    ...c.routes.map((r) => ['ip', 'route', 'add', r.cidr, 'via', r.via]),
    ['ip', 'netns', 'add', c.pod.name],
    ['ip', 'link', 'add', 'veth-pod', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.pod.name],
    ['ip', 'addr', 'add', `${gateway}/24`, 'dev', 'veth-pod'],
    ['ip', 'link', 'set', 'veth-pod', 'up'],
    ['ip', 'netns', 'exec', c.pod.name, 'ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'netns', 'exec', c.pod.name, 'ip', 'addr', 'add', `${c.pod.ip}/24`, 'dev', 'eth0'],
    ['ip', 'netns', 'exec', c.pod.name, 'ip', 'link', 'set', 'eth0', 'up'],
    ['ip', 'netns', 'exec', c.pod.name, 'ip', 'route', 'add', 'default', 'via', gateway],
  ]) {
    await sh(argv);
  }
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
}

function background(argv: readonly string[], logFile: string): void {
  const fd = openSync(logFile, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.on('exit', (code, signal) =>
    writeFileSync(logFile, `\n[uml-node] ${argv[0]} exited: ${code ?? signal}\n`, { flag: 'a' }),
  );
}

/** The kubeconfig points at 127.0.0.1:<port>; the host listens on the LAN. */
function relay(c: UmlNodeConfig): Promise<void> {
  const server = createServer((inner) => {
    splice(inner, connect(c.relay.port, c.relay.host));
  });
  return new Promise((resolve) => server.listen(c.relay.listenPort, '127.0.0.1', resolve));
}

/** Runs each command the host drops in commandDir, one at a time, in order. */
async function serveCommands(dir: string): Promise<never> {
  for (;;) {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.cmd.json')).sort();
    for (const name of names) {
      const id = name.slice(0, -'.cmd.json'.length);
      const { argv } = JSON.parse(await readFile(join(dir, name), 'utf8')) as { argv: string[] };
      await rename(join(dir, name), join(dir, `${id}.running`));
      const result = await exec(argv[0]!, argv.slice(1), { maxBuffer: 16 << 20 }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string; message: string }) => ({
          code: typeof e.code === 'number' ? e.code : 127,
          stdout: e.stdout ?? '',
          stderr: e.stderr || e.message,
        }),
      );
      // Written whole, then renamed: the host never reads half a result.
      await writeFile(join(dir, `${id}.partial`), JSON.stringify(result));
      await rename(join(dir, `${id}.partial`), join(dir, `${id}.result.json`));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const config = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as UmlNodeConfig;
await network(config);
background(
  [
    'ip',
    'netns',
    'exec',
    config.pod.name,
    process.execPath,
    config.helloServer,
    config.pod.name,
    String(config.podPort),
  ],
  `${config.speakerLog}.hello`,
);
await relay(config);
background(config.speaker, config.speakerLog);
writeFileSync(join(config.commandDir, 'ready'), `${Date.now()}\n`);
await serveCommands(config.commandDir);
