// One L2 lab per test file: three nodes and a client on one segment (two
// bridges), the real operator allocating addresses, a real speaker per node.
import { elect } from '../../../speaker/l2/election.ts';
import { L2Lab, l2LabUnavailable } from '../../harness/l2-lab.ts';
import type { LabNode } from '../../harness/l2-lab.ts';
import { waitFor } from '../../harness/processes.ts';
import { sharedKubeconfigPath } from '../../harness/shared.ts';
import { LbEnv } from '../loadbalancer/helpers.ts';
import { LabNodes, PorticoL2 } from './kube.ts';

/** The pools' addresses, all on each node's kube-ipvs0 (as the IPVS backend would put them). */
export const POOL_V4 = Array.from({ length: 10 }, (_, i) => `192.168.77.${200 + i}`);
export const SCOPED_V4 = Array.from({ length: 5 }, (_, i) => `192.168.77.${210 + i}`);
export const POOL_V6 = Array.from({ length: 10 }, (_, i) => `fd00:77::${(0x200 + i).toString(16)}`);

export async function assertLabAvailable(): Promise<void> {
  const why = await l2LabUnavailable();
  if (why) throw new Error(`L2 tests cannot run here: ${why}`);
}

export class L2Env {
  readonly lab = new L2Lab();
  readonly env: LbEnv;
  readonly nodes: LabNodes;
  readonly l2: PorticoL2;

  constructor(prefix: string) {
    this.env = new LbEnv(prefix);
    this.nodes = new LabNodes(this.env.client);
    this.l2 = new PorticoL2(this.env.client, this.env.portico);
  }

  #speakerArgs: string[] = [];

  async setup(
    nodeLabels: Record<string, Record<string, string>> = {},
    speakerArgs: string[] = [],
  ): Promise<void> {
    this.#speakerArgs = speakerArgs;
    await this.env.setup();
    await this.env.pool('l2', {
      addresses: [`${POOL_V4[0]}-${POOL_V4.at(-1)}`, `${POOL_V6[0]}-${POOL_V6.at(-1)}`],
    });
    await this.env.pool('scoped', { addresses: [`${SCOPED_V4[0]}-${SCOPED_V4.at(-1)}`], autoAssign: false });
    await this.lab.create({ nodes: 3, vips: [...POOL_V4, ...SCOPED_V4, ...POOL_V6] });
    await this.lab.bridgeApiserver(this.env.kc.getCurrentCluster()!.server);
    for (const n of this.lab.nodes) await this.nodes.create(n, nodeLabels[n.short] ?? {});
    await this.l2.advertisement('l2', { ipAddressPools: ['l2'] });
    await Promise.all(this.lab.nodes.map((n) => this.startSpeaker(n.short, false)));
    for (const n of this.lab.nodes) await this.lab.waitSpeakerReady(n.short);
  }

  startSpeaker(short: string, wait = true) {
    return this.lab.startSpeaker(
      short,
      [`--kubeconfig=${sharedKubeconfigPath()}`, `--namespace=${this.env.portico}`, ...this.#speakerArgs],
      wait,
    );
  }

  async teardown(): Promise<void> {
    await this.lab.destroy();
    await this.nodes.deleteAll();
    await this.env.teardown();
  }

  /** The node the election picks for ip among the given lab nodes (default: all). */
  expected(ip: string, among: readonly LabNode[] = this.lab.nodes): LabNode {
    const winner = elect(
      ip,
      among.map((n) => ({ node: n.name })),
    );
    return this.lab.node(winner!);
  }

  /**
   * Waits until every reply to the client's ARP for ip comes from `mac` (and at
   * least one comes). Polled, not asserted once: a speaker whose process is
   * stalled past the dead-after time (a loaded CI machine) is, for the others,
   * a partition, and they take over until it is heard again (decision 0011).
   */
  async waitArpOnlyFrom(ip: string, mac: string, dev = 'eth0'): Promise<string[]> {
    let macs: string[] = [];
    await waitFor(
      `ARP for ${ip} on ${dev} answered only by ${mac}`,
      async () => {
        macs = await this.lab.arping(ip, dev, 2);
        return macs.length > 0 && macs.every((m) => m === mac);
      },
      60_000,
      100,
    );
    return macs;
  }

  async waitNdpOnlyFrom(ip: string, mac: string): Promise<string[]> {
    let macs: string[] = [];
    await waitFor(
      `NDP for ${ip} answered only by ${mac}`,
      async () => {
        macs = await this.lab.ndisc(ip);
        return macs.length > 0 && macs.every((m) => m === mac);
      },
      60_000,
      100,
    );
    return macs;
  }
}
