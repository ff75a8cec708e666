// Answers ARP/NDP for the IPs this node won, from userspace on the packet
// socket, and announces each takeover with gratuitous ARP (request and reply)
// or an unsolicited Neighbor Advertisement, repeated for a few seconds so that
// a neighbour that missed the first copy still moves. Losing an IP removes it
// from the answer set at once and cancels its announcements.
import type { Logger } from '../../lib/logger.ts';
import { ARP_REPLY, ARP_REQUEST, buildGratuitousArp } from './arp.ts';
import type { Link } from './interfaces.ts';
import type { L2Metrics } from './metrics.ts';
import { buildUnsolicitedAdvertisement } from './ndp.ts';
import type { ReceivedFrame } from './packet-socket.ts';
import { answersOn, respond } from './responder.ts';
import type { AnnouncedIP } from './responder.ts';

export interface FrameSocket {
  send(ifindex: number, frame: Uint8Array): boolean;
  allMulticast(ifindex: number): void;
}

/** When each announcement after a takeover is sent, in ms from the takeover. */
export const DEFAULT_ANNOUNCE_SCHEDULE_MS: readonly number[] = [0, 50, 200, 500, 1000, 2000, 3000];

export interface AnnouncerOptions {
  socket: FrameSocket;
  metrics: L2Metrics;
  logger: Logger;
  scheduleMs?: readonly number[];
}

const sameEntry = (a: AnnouncedIP, b: AnnouncedIP) =>
  a.interfaces.length === b.interfaces.length && a.interfaces.every((i, k) => b.interfaces[k] === i);

export class Announcer {
  readonly #o: AnnouncerOptions;
  #announced = new Map<string, AnnouncedIP>();
  readonly #bursts = new Map<string, NodeJS.Timeout[]>();
  #links = new Map<number, Link>();

  constructor(options: AnnouncerOptions) {
    this.#o = options;
  }

  /** The IPs answered for now. */
  announced(): ReadonlyMap<string, AnnouncedIP> {
    return this.#announced;
  }

  setLinks(links: readonly Link[]): void {
    const next = new Map(links.map((l) => [l.index, l]));
    for (const l of links) {
      if (this.#links.get(l.index)?.mac === l.mac) continue;
      try {
        this.#o.socket.allMulticast(l.index);
      } catch (err) {
        this.#o.logger.warn(
          { err, interface: l.name },
          'could not receive all multicast; NDP may miss solicitations',
        );
      }
    }
    const added = links.filter((l) => !this.#links.has(l.index));
    this.#links = next;
    // A link that came (back) up gets the announcements it missed.
    if (added.length > 0) for (const ip of this.#announced.keys()) this.#burst(ip);
  }

  /** Makes `desired` the answer set; returns the IPs taken over and released. */
  set(desired: ReadonlyMap<string, AnnouncedIP>): { taken: string[]; released: string[] } {
    const previous = this.#announced;
    this.#announced = new Map(desired);
    const released = [...previous.keys()].filter((ip) => !desired.has(ip));
    for (const ip of released) this.#cancel(ip);
    const taken: string[] = [];
    for (const [ip, entry] of desired) {
      const old = previous.get(ip);
      if (old && sameEntry(old, entry)) continue;
      if (!old) taken.push(ip);
      this.#burst(ip);
    }
    return { taken, released };
  }

  onFrame({ ifindex, frame }: ReceivedFrame): void {
    const link = this.#links.get(ifindex);
    if (!link) return;
    const d = respond(frame, link.name, link.mac, this.#announced);
    if (!d) return;
    this.#o.metrics.requests.inc({ protocol: d.protocol, interface: link.name });
    if (d.reply && this.#o.socket.send(ifindex, d.reply)) {
      this.#o.metrics.replies.inc({ protocol: d.protocol, interface: link.name });
    }
  }

  close(): void {
    for (const ip of [...this.#bursts.keys()]) this.#cancel(ip);
    this.#announced = new Map();
  }

  #burst(ip: string): void {
    this.#cancel(ip);
    const timers = (this.#o.scheduleMs ?? DEFAULT_ANNOUNCE_SCHEDULE_MS).map((ms) =>
      setTimeout(() => this.#announce(ip), ms),
    );
    this.#bursts.set(ip, timers);
  }

  #cancel(ip: string): void {
    for (const t of this.#bursts.get(ip) ?? []) clearTimeout(t);
    this.#bursts.delete(ip);
  }

  #announce(ip: string): void {
    const entry = this.#announced.get(ip);
    if (!entry) return;
    const v6 = ip.includes(':');
    for (const link of this.#links.values()) {
      if (!answersOn(entry, link.name)) continue;
      const frames = v6
        ? [buildUnsolicitedAdvertisement(link.mac, ip)]
        : [buildGratuitousArp(link.mac, ip, ARP_REQUEST), buildGratuitousArp(link.mac, ip, ARP_REPLY)];
      for (const f of frames) {
        if (this.#o.socket.send(link.index, f)) {
          this.#o.metrics.gratuitous.inc({ protocol: v6 ? 'ndp' : 'arp', interface: link.name });
        }
      }
    }
  }
}
