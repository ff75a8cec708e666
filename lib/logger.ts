// One JSON logger for the process; controllers log through named children so
// every line says which loop wrote it.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** The level from PORTICO_LOG_LEVEL, falling back to info for unset or unknown values. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const level = env['PORTICO_LOG_LEVEL']?.trim().toLowerCase();
  return level && LEVELS.has(level) ? level : 'info';
}

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'portico',
    level: options.level ?? logLevelFromEnv(),
    // Error objects under `err` get stack and message; that is where we put them.
    serializers: { err: pino.stdSerializers.err },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export const rootLogger: Logger = createLogger();

/** A logger for one component (a controller, the informer for X, the lease Y). */
export function childLogger(name: string, parent: Logger = rootLogger): Logger {
  return parent.child({ component: name });
}
