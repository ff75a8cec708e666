// The lab's router: BIRD 2 in the router namespace, passive BGP towards the
// three nodes, installing what they announce into the router namespace's own
// routing table (ECMP across nodes), so the client behind it can reach
// routed LoadBalancer IPs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../test/e2e/netns/netns.ts';
import { NODE_ASN, NODES, ROUTER_ASN, ROUTER_LAN } from './plan.ts';

export function birdConfig(dir: string): string {
  const peers = NODES.map(
    (n) => `protocol bgp ${n.name.replace('-', '_')} from nodes { neighbor ${n.ip} as ${NODE_ASN}; }`,
  );
  return [
    `log "${join(dir, 'bird.log')}" all;`,
    `router id ${ROUTER_LAN};`,
    'protocol device {}',
    'protocol kernel { ipv4 { import none; export all; }; merge paths yes; }',
    'template bgp nodes {',
    `  local ${ROUTER_LAN} as ${ROUTER_ASN};`,
    '  passive on;',
    '  ipv4 { import all; export none; };',
    '}',
    ...peers,
    '',
  ].join('\n');
}

export interface Router {
  /** `birdc` in the router namespace, e.g. ('show', 'route'). */
  birdc(...args: string[]): Promise<string>;
}

export async function startRouter(lab: Lab, dir: string): Promise<Router> {
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  writeFileSync(conf, birdConfig(dir));
  await lab.start('router', ['bird', '-f', '-c', conf, '-s', socket, '-P', join(dir, 'bird.pid')], null);
  // birdc exits non-zero for an empty answer (e.g. no such route); callers read the text.
  const birdc = async (...args: string[]) => {
    const r = await lab.tryExec('router', ['birdc', '-s', socket, ...args]);
    return r.stdout;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await birdc('show', 'status').catch(() => '');
    if (/ready/.test(status)) break;
    if (Date.now() > deadline) throw new Error(`BIRD did not start; see ${join(dir, 'bird.log')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { birdc };
}
