// The IPVS scheduler of a Service, from the `portico.io/ipvs-scheduler`
// annotation. nftables balances with numgen whatever this says.
export const SCHEDULER_ANNOTATION = 'portico.io/ipvs-scheduler';
export const DEFAULT_SCHEDULER = 'rr';

/** Schedulers the Linux kernel ships (ip_vs_<name> modules). */
export const IPVS_SCHEDULERS: readonly string[] = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
  'twos',
];

/** The scheduler for these annotations, and a warning when the annotation names no known one. */
export function schedulerFor(annotations: Record<string, string> | undefined): {
  scheduler: string;
  warning: string | null;
} {
  const raw = annotations?.[SCHEDULER_ANNOTATION];
  if (raw === undefined) return { scheduler: DEFAULT_SCHEDULER, warning: null };
  const value = raw.trim().toLowerCase();
  if (IPVS_SCHEDULERS.includes(value)) return { scheduler: value, warning: null };
  return {
    scheduler: DEFAULT_SCHEDULER,
    warning: `annotation ${SCHEDULER_ANNOTATION}: unknown scheduler "${raw}" (known: ${IPVS_SCHEDULERS.join(', ')}); using ${DEFAULT_SCHEDULER}`,
  };
}
