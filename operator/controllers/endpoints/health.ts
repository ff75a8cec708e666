// Pure: the health of one backend address as a state machine fed with probe
// results. Like Envoy's active health checking: a new address needs a single
// success to be published (so a fresh object becomes ready at once), a
// healthy one needs `unhealthy` failures in a row to be withdrawn, and an
// unhealthy one needs `healthy` successes in a row to come back.

export type HealthPhase = 'pending' | 'healthy' | 'unhealthy';

export interface HealthThresholds {
  /** Consecutive successes for an unhealthy address to become healthy. */
  healthy: number;
  /** Consecutive failures for a healthy address to become unhealthy. */
  unhealthy: number;
}

export interface HealthState {
  readonly phase: HealthPhase;
  /** Successes in a row (0 after a failure). */
  readonly successes: number;
  /** Failures in a row (0 after a success). */
  readonly failures: number;
  /** When the phase last changed (ms), if it ever did. */
  readonly sinceMs?: number;
  /** Why the address is not healthy: the failure that made it so. */
  readonly message?: string;
}

export interface ProbeResult {
  ok: boolean;
  /** For failures: what went wrong ("connect ECONNREFUSED", "HTTP 503"). */
  message?: string;
}

export const INITIAL_HEALTH: HealthState = { phase: 'pending', successes: 0, failures: 0 };

/**
 * For an address that was published ready before this process started
 * watching it (an operator restart or a leader change): it stays ready until
 * unhealthyThreshold probes fail, instead of flapping while the first probe runs.
 */
export const CARRIED_OVER_HEALTHY: HealthState = { phase: 'healthy', successes: 0, failures: 0 };

/** The next state after one probe. Returns the same object when nothing changed. */
export function observeProbe(
  state: HealthState,
  result: ProbeResult,
  thresholds: HealthThresholds,
  nowMs: number,
): HealthState {
  if (result.ok) {
    const successes = state.successes + 1;
    const becomesHealthy =
      state.phase === 'pending' || (state.phase === 'unhealthy' && successes >= thresholds.healthy);
    if (becomesHealthy) return { phase: 'healthy', successes, failures: 0, sinceMs: nowMs };
    return { ...state, successes, failures: 0 };
  }
  const failures = state.failures + 1;
  const message = result.message ?? 'probe failed';
  const becomesUnhealthy =
    state.phase === 'pending' || (state.phase === 'healthy' && failures >= thresholds.unhealthy);
  if (becomesUnhealthy) return { phase: 'unhealthy', successes: 0, failures, sinceMs: nowMs, message };
  // Keep the message of the failure that made the address unhealthy, so the
  // status does not change with every probe.
  return { ...state, successes: 0, failures };
}

export const isHealthy = (state: HealthState | undefined): boolean => state?.phase === 'healthy';

/** Whether two states differ in what is published or shown on status. */
export function phaseChanged(a: HealthState | undefined, b: HealthState): boolean {
  return a?.phase !== b.phase || a?.message !== b.message;
}
