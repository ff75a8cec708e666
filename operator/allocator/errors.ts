// Result and field-error types shared by the allocator core.
//
// Convention for the whole allocator: functions that parse or validate
// user-supplied data never throw on bad input. They return a Result (or a list
// of FieldErrors). A thrown Error from this module tree means a bug (a broken
// internal invariant), never bad input.

export type Result<T, E> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** A validation error that names the offending field, e.g. `spec.addresses[1]`. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export function fieldError(path: string, message: string): FieldError {
  return { path, message };
}

/** `spec.addresses[1]: "10.0.0.9-10.0.0.1" is a reversed range` */
export function formatFieldError(e: FieldError): string {
  return e.path === '' ? e.message : `${e.path}: ${e.message}`;
}

/** Quote a user-supplied value for an error message. */
export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
