// Who announces an IP: a rendezvous (highest random weight) hash over the
// candidate nodes. Every speaker that sees the same candidates computes the
// same winner with no coordination, and when a node leaves only the IPs it
// held move (each to its own runner-up), so a failure spreads its load instead
// of moving every VIP. Pure.
import { createHash } from 'node:crypto';

export interface Candidate {
  node: string;
  /** Soft preference (L2Advertisement preferredNodeSelectors): a higher score wins first. */
  score?: number;
}

/** The hash rank of `node` for `ip`: the first 8 bytes of sha256(node NUL ip), as a bigint. */
export function rank(node: string, ip: string): bigint {
  return createHash('sha256').update(`${node}\u0000${ip}`).digest().readBigUInt64BE(0);
}

/** The winner for `ip` among the candidates, or undefined when there is none. */
export function elect(ip: string, candidates: readonly Candidate[]): string | undefined {
  let best: { node: string; score: number; rank: bigint } | undefined;
  for (const c of candidates) {
    const score = c.score ?? 0;
    const r = rank(c.node, ip);
    // Ties on the 64-bit rank are broken by name, so the order never depends on input order.
    if (
      !best ||
      score > best.score ||
      (score === best.score && (r > best.rank || (r === best.rank && c.node < best.node)))
    ) {
      best = { node: c.node, score, rank: r };
    }
  }
  return best?.node;
}
