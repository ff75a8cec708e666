// The node's interfaces that can carry ARP/NDP, read from /sys/class/net.
// Loopback and NOARP interfaces are left out: the IPVS backend's dummy
// kube-ipvs0 is NOARP, and answering there would be pointless.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Link {
  name: string;
  index: number;
  mac: string;
}

const ARPHRD_ETHER = 1;
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

function read(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Ethernet interfaces that are up and do ARP. */
export function listLinks(sysfs = '/sys/class/net'): Link[] {
  const links: Link[] = [];
  let names: string[];
  try {
    names = readdirSync(sysfs);
  } catch {
    return links;
  }
  for (const name of names) {
    const dir = join(sysfs, name);
    const flags = Number(read(dir, 'flags') ?? '0');
    if (Number(read(dir, 'type')) !== ARPHRD_ETHER) continue;
    if (!(flags & IFF_UP) || flags & IFF_LOOPBACK || flags & IFF_NOARP) continue;
    const mac = read(dir, 'address');
    const index = Number(read(dir, 'ifindex'));
    if (!mac || !Number.isInteger(index)) continue;
    links.push({ name, index, mac });
  }
  return links.sort((a, b) => a.index - b.index);
}

/** The links a speaker may use: all of them, or those named by --l2-interfaces. */
export function usableLinks(links: readonly Link[], allowed: readonly string[]): Link[] {
  return allowed.length === 0 ? [...links] : links.filter((l) => allowed.includes(l.name));
}
