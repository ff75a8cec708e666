// The IPVS lab's nodes: this kernel has no IPVS, so each node is a User-Mode
// Linux guest (Debian's kernel ships ip_vs) instead of a network namespace.
// Its eth0 is a tap device on the LAN bridge, so L2, BGP and client traffic
// reach it exactly as they reach a namespace node. lab/uml-node.ts, inside
// the guest, sets the node up and starts the speaker; this side makes the
// taps, the apiserver relay on the LAN, boots the guests, and runs commands on
// them through a directory they share with the host (hostfs).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../test/e2e/netns/netns.ts';
import { helperScript } from '../test/e2e/netns/netns.ts';
import type { ApiserverBridge } from '../test/harness/apiserver-bridge.ts';
import { IPVS_NODE_MODULES, startUml } from '../test/harness/uml.ts';
import type { UmlGuest } from '../test/harness/uml.ts';
import { LAN_PREFIX, LAN_RELAY, NODES, POD_PORT, ROUTER_LAN } from './plan.ts';
import { READY_PROBE, speakerArgs } from './speakers.ts';
import type { UmlNodeConfig } from './uml-node.ts';

const GUEST = fileURLToPath(new URL('uml-node.ts', import.meta.url));

export interface UmlNodes {
  /** Runs `argv` on a node, like `ip netns exec` would on a namespace node. */
  exec(node: string, argv: readonly string[], timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** A node's command channel: the directory uml-node.ts watches inside the guest. */
export const umlChannel = (dir: string, node: string): string => join(dir, `uml-${node}`);

let sequence = 0;

/** Runs `argv` on the UML node whose channel is `dir`, and returns what it printed. */
export async function runOnUmlNode(
  dir: string,
  argv: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const id = `${Date.now()}-${process.pid}-${(++sequence).toString().padStart(6, '0')}`;
  writeFileSync(join(dir, `${id}.cmd.json`), JSON.stringify({ argv }));
  const result = join(dir, `${id}.result.json`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(result)) {
    if (Date.now() > deadline) throw new Error(`${argv.join(' ')} did not finish in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = JSON.parse(readFileSync(result, 'utf8')) as { code: number; stdout: string; stderr: string };
  rmSync(result);
  rmSync(join(dir, `${id}.running`), { force: true });
  return r;
}

export async function startUmlNodes(o: {
  lab: Lab;
  bridge: ApiserverBridge;
  kubeconfig: string;
  dir: string;
}): Promise<UmlNodes> {
  // The relay the guests reach: the bridge's helper on the LAN bridge's address.
  await o.lab.addr('lan', 'br0', `${LAN_RELAY}/${LAN_PREFIX}`);
  await o.bridge.into(o.lab.ns('lan'), join(o.dir, 'bridge-lan.log'), LAN_RELAY);

  const guests: UmlGuest[] = [];
  const channels = new Map<string, string>();
  const nodes: UmlNodes = {
    async exec(node, argv, timeoutMs = 60_000) {
      const dir = channels.get(node);
      if (!dir) throw new Error(`no UML node ${node}`);
      const r = await runOnUmlNode(dir, argv, timeoutMs);
      if (r.code !== 0) throw new Error(`${node}: ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      await Promise.all(guests.splice(0).map((g) => g.stop()));
    },
  };

  try {
    for (const [i, node] of NODES.entries()) {
      const tap = `tap-${node.name}`;
      await o.lab.exec('lan', ['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      await o.lab.exec('lan', ['ip', 'link', 'set', tap, 'master', 'br0', 'up']);
      const commandDir = umlChannel(o.dir, node.name);
      rmSync(commandDir, { recursive: true, force: true });
      mkdirSync(commandDir, { recursive: true });
      channels.set(node.name, commandDir);
      const config: UmlNodeConfig = {
        ip: node.ip,
        prefix: LAN_PREFIX,
        gateway: ROUTER_LAN,
        pod: { ...node.pod, cidr: node.podCIDR },
        podPort: POD_PORT,
        helloServer: helperScript('hello-server.ts'),
        routes: NODES.filter((n) => n !== node).map((n) => ({ cidr: n.podCIDR, via: n.ip })),
        relay: { listenPort: o.bridge.port, host: LAN_RELAY, port: o.bridge.port },
        speaker: speakerArgs({ ...o, dataplane: 'ipvs' }, node.name),
        speakerLog: join(o.dir, `speaker-${node.name}.log`),
        commandDir,
      };
      const configFile = join(commandDir, 'config.json');
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      guests.push(
        await startUml([process.execPath, '--disable-warning=ExperimentalWarning', GUEST, configFile], {
          netns: o.lab.ns('lan'),
          net: [`eth0=tuntap,${tap},fe:fd:c6:33:64:${(0x11 + i).toString(16)}`],
          modules: IPVS_NODE_MODULES,
          memMb: 1024,
          logFile: join(o.dir, `uml-${node.name}.console.log`),
        }),
      );
    }
    // UML is slow to boot Node and the speaker, the more so on a busy machine.
    const deadline = Date.now() + 300_000;
    for (const node of NODES) {
      while (!existsSync(join(channels.get(node.name)!, 'ready'))) {
        if (Date.now() > deadline)
          throw new Error(`UML node ${node.name} did not come up; see ${o.dir}/uml-${node.name}.console.log`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    for (const node of NODES) {
      while (
        !(await nodes.exec(node.name, READY_PROBE).then(
          () => true,
          () => false,
        ))
      ) {
        if (Date.now() > deadline)
          throw new Error(`speaker on ${node.name} not ready; see ${o.dir}/speaker-${node.name}.log`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    return nodes;
  } catch (err) {
    await nodes.stop();
    throw err;
  }
}
