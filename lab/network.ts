// Builds the lab's network (see plan.ts) out of network namespaces and veth
// pairs, with the LAN as a bridge inside a namespace of its own. Every
// namespace and process belongs to one Lab object, which removes them all.
import type { Lab } from '../test/e2e/netns/netns.ts';
import { CLIENT, LAN_CLIENT, LAN_PREFIX, NODES, ROUTER_CLIENT_SIDE, ROUTER_LAN } from './plan.ts';

/** Plugs namespace `short` into the LAN bridge as `dev`, with `ip`. */
async function plugIntoLan(lab: Lab, short: string, dev: string, ip: string, port: string): Promise<void> {
  await lab.link(short, dev, 'lan', port);
  await lab.exec('lan', ['ip', 'link', 'set', port, 'master', 'br0']);
  await lab.addr(short, dev, `${ip}/${LAN_PREFIX}`);
}

/**
 * With `umlNodes`, the nodes and their pods are User-Mode Linux guests made
 * by uml-nodes.ts; only the rest of the network is built here.
 */
export async function buildNetwork(lab: Lab, umlNodes = false): Promise<void> {
  await lab.addNamespace('lan');
  await lab.exec('lan', ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  await lab.exec('lan', ['ip', 'link', 'set', 'br0', 'up']);

  await lab.addNamespace('router');
  await lab.sysctl('router', 'net.ipv4.ip_forward', '1');
  await plugIntoLan(lab, 'router', 'lan0', ROUTER_LAN, 'p-router');

  await lab.addNamespace('client');
  await lab.link('client', 'eth0', 'router', 'cl0');
  await lab.addr('client', 'eth0', `${CLIENT}/24`);
  await lab.addr('router', 'cl0', `${ROUTER_CLIENT_SIDE}/24`);
  await lab.exec('client', ['ip', 'route', 'add', 'default', 'via', ROUTER_CLIENT_SIDE]);

  await lab.addNamespace('lan-client');
  await plugIntoLan(lab, 'lan-client', 'eth0', LAN_CLIENT, 'p-lanclient');
  await lab.exec('lan-client', ['ip', 'route', 'add', 'default', 'via', ROUTER_LAN]);

  for (const node of umlNodes ? [] : NODES) {
    await lab.addNamespace(node.name);
    await lab.sysctl(node.name, 'net.ipv4.ip_forward', '1');
    await plugIntoLan(lab, node.name, 'eth0', node.ip, `p-${node.name}`);
    await lab.exec(node.name, ['ip', 'route', 'add', 'default', 'via', ROUTER_LAN]);
    for (const other of NODES) {
      if (other !== node) await lab.exec(node.name, ['ip', 'route', 'add', other.podCIDR, 'via', other.ip]);
    }
    // The pod: a namespace behind a veth, its gateway the node's end.
    const gateway = node.podCIDR.replace(/\.0\/24$/, '.1');
    await lab.addNamespace(node.pod.name);
    await lab.link(node.pod.name, 'eth0', node.name, 'veth-pod');
    await lab.addr(node.name, 'veth-pod', `${gateway}/24`);
    await lab.addr(node.pod.name, 'eth0', `${node.pod.ip}/24`);
    await lab.exec(node.pod.name, ['ip', 'route', 'add', 'default', 'via', gateway]);
  }
  // The router reaches pod ranges through their nodes, so replies from pods to
  // the client (eTP Local keeps the client's address) find their way back.
  for (const node of NODES) await lab.exec('router', ['ip', 'route', 'add', node.podCIDR, 'via', node.ip]);
}
