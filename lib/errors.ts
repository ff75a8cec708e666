// client-node 2.x reports failures in several shapes: typed and object APIs
// throw ApiException (`.code`, body as JSON text), the Watch class rejects
// with an Error carrying `.statusCode`, and a watch stream can carry a Status
// object (`.code`) in an ERROR event. These helpers read all of them.

export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** The HTTP status code of a client-node error or a Status object, if any. */
export function statusCode(err: unknown): number | undefined {
  const rec = asRecord(err);
  if (!rec) return undefined;
  for (const field of ['code', 'statusCode'] as const) {
    const value = rec[field];
    if (typeof value === 'number') return value;
  }
  return undefined;
}

/** The Status object an apiserver error carried in its body, if it can be read. */
export function errorStatus(err: unknown): KubeStatus | undefined {
  const rec = asRecord(err);
  if (!rec) return undefined;
  if (rec['kind'] === 'Status') return rec as KubeStatus;
  let body: unknown = rec['body'];
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const status = asRecord(body);
  return status && status['kind'] === 'Status' ? (status as KubeStatus) : undefined;
}

/** The machine-readable reason (e.g. "Conflict", "AlreadyExists", "Expired"). */
export function statusReason(err: unknown): string | undefined {
  return errorStatus(err)?.reason;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isGone = (err: unknown): boolean => statusCode(err) === 410;
/** A create hit an existing object (409 with reason AlreadyExists). */
export const isAlreadyExists = (err: unknown): boolean =>
  statusCode(err) === 409 && statusReason(err) === 'AlreadyExists';
/** An update lost an optimistic-concurrency race (409, not AlreadyExists). */
export const isConflict = (err: unknown): boolean =>
  statusCode(err) === 409 && statusReason(err) !== 'AlreadyExists';

/** A short description for logs: "409 Conflict: the object has been modified". */
export function describeError(err: unknown): string {
  const code = statusCode(err);
  const status = errorStatus(err);
  if (code !== undefined && status?.message)
    return `${code} ${status.reason ?? ''}: ${status.message}`.trim();
  if (err instanceof Error) return code !== undefined ? `${code} ${err.message}` : err.message;
  return String(err);
}
