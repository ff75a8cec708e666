// Release before acquire. When the winner of an IP changes while the old
// winner is still alive (a node became eligible, a label or an endpoint
// moved), every speaker learns it within a few milliseconds of the others but
// not at the same instant. The new winner waits `delayMs` before answering so
// that the old one, which releases at once, has stopped first. When the old
// winner is dead there is nobody to wait for, and the takeover is immediate:
// that is the failover path. Pure.
export interface HandoverState {
  /** The winner of each IP in the previous plan. */
  previous: ReadonlyMap<string, string | undefined>;
  /** Since when this node has been waiting to take each IP. */
  waitingSince: ReadonlyMap<string, number>;
}

export interface HandoverResult {
  /** IPs this node answers for now. */
  acquire: Set<string>;
  waitingSince: Map<string, number>;
  /** The state's next `previous`: the new winners, but the old one for IPs still waiting. */
  previous: Map<string, string | undefined>;
  /** When to look again for an IP still waiting, or undefined. */
  recheckAt?: number;
}

export function handover(
  self: string,
  winners: ReadonlyMap<string, string | undefined>,
  live: ReadonlySet<string>,
  held: ReadonlySet<string>,
  state: HandoverState,
  now: number,
  delayMs: number,
): HandoverResult {
  const acquire = new Set<string>();
  const waitingSince = new Map<string, number>();
  const previous = new Map(winners);
  let recheckAt: number | undefined;
  for (const [ip, winner] of winners) {
    if (winner !== self) continue;
    const before = state.previous.get(ip);
    const otherAlive = before !== undefined && before !== self && live.has(before);
    if (held.has(ip) || !otherAlive) {
      acquire.add(ip);
      continue;
    }
    const since = state.waitingSince.get(ip) ?? now;
    if (now - since >= delayMs) {
      acquire.add(ip);
      continue;
    }
    waitingSince.set(ip, since);
    previous.set(ip, before);
    recheckAt = Math.min(recheckAt ?? Infinity, since + delayMs);
  }
  return { acquire, waitingSince, previous, ...(recheckAt === undefined ? {} : { recheckAt }) };
}
