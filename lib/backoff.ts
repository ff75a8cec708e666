// Exponential backoff shared by the work queue (retries), the informer
// (reconnects) and leader election. Pure so that growth and cap are testable.

export interface BackoffOptions {
  /** Delay before the first retry. */
  baseMs: number;
  /** Upper bound for any delay. */
  capMs: number;
}

/** Delay before retry number `attempt` (0-based): base * 2^attempt, capped. */
export function backoffDelay(attempt: number, { baseMs, capMs }: BackoffOptions): number {
  if (attempt < 0) attempt = 0;
  // 2^attempt overflows to Infinity for large attempts; Math.min still caps it.
  return Math.min(capMs, baseMs * 2 ** attempt);
}

/**
 * Spreads a delay over [delay * (1 - fraction), delay] so that many clients
 * reconnecting after an apiserver restart do not arrive in lockstep.
 */
export function withJitter(delayMs: number, fraction: number, random: () => number = Math.random): number {
  return delayMs * (1 - fraction * random());
}
