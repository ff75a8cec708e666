// Which speakers are alive, from the heartbeats they send each other. Pure:
// it is told what was heard and when, and answers for a given time. A speaker
// is live from its first heartbeat until `deadAfterMs` passes without one, or
// at once when it says goodbye (a clean shutdown hands over without waiting).
export interface LivenessOptions {
  deadAfterMs: number;
}

export class Liveness {
  readonly #deadAfterMs: number;
  readonly #lastHeard = new Map<string, number>();
  /** The incarnation (process start) last heard per node: a restarted speaker replaces a goodbye. */
  readonly #incarnation = new Map<string, bigint>();

  constructor(options: LivenessOptions) {
    this.#deadAfterMs = options.deadAfterMs;
  }

  /** Records a heartbeat; true when this made the node live (it was not). */
  heard(node: string, incarnation: bigint, now: number): boolean {
    const was = this.isLive(node, now);
    const known = this.#incarnation.get(node);
    // A stray heartbeat from before a goodbye (reordered) must not revive the node.
    if (known !== undefined && incarnation < known) return false;
    this.#incarnation.set(node, incarnation);
    this.#lastHeard.set(node, now);
    return !was;
  }

  /** Records a goodbye; true when the node was live. */
  left(node: string, incarnation: bigint, now: number): boolean {
    const was = this.isLive(node, now);
    const known = this.#incarnation.get(node);
    if (known !== undefined && incarnation < known) return false;
    this.#lastHeard.delete(node);
    // Only a newer incarnation (a restart) may bring it back.
    this.#incarnation.set(node, incarnation + 1n);
    return was;
  }

  isLive(node: string, now: number): boolean {
    const t = this.#lastHeard.get(node);
    return t !== undefined && now - t < this.#deadAfterMs;
  }

  /** The live nodes, sorted. */
  live(now: number): string[] {
    return [...this.#lastHeard.keys()].filter((n) => this.isLive(n, now)).sort();
  }

  /** When the next node would turn dead if nothing more is heard (for a timer), or undefined. */
  nextExpiry(now: number): number | undefined {
    let next: number | undefined;
    for (const t of this.#lastHeard.values()) {
      const at = t + this.#deadAfterMs;
      if (at > now && (next === undefined || at < next)) next = at;
    }
    return next;
  }
}
