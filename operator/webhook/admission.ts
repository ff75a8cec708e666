// AdmissionReview v1, pure: parse what the apiserver sends (never trusting its
// shape), and build what a handler answers (allow, deny, or a JSONPatch).
import { z } from 'zod';
import type { FieldError } from '../../crds/index.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

const gvk = z.object({ group: z.string(), version: z.string(), kind: z.string() });
const gvr = z.object({ group: z.string(), version: z.string(), resource: z.string() });

const requestSchema = z.looseObject({
  uid: z.string().min(1),
  kind: gvk,
  resource: gvr,
  subResource: z.string().optional(),
  requestKind: gvk.optional(),
  requestResource: gvr.optional(),
  requestSubResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  userInfo: z
    .looseObject({
      username: z.string().optional(),
      uid: z.string().optional(),
      groups: z.array(z.string()).optional(),
    })
    .optional(),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
  dryRun: z.boolean().optional(),
  options: z.unknown().optional(),
});

const reviewSchema = z.looseObject({
  apiVersion: z.literal(ADMISSION_API_VERSION),
  kind: z.literal('AdmissionReview'),
  request: requestSchema,
});

export type AdmissionRequest = z.output<typeof requestSchema>;
export type AdmissionOperation = AdmissionRequest['operation'];

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; error: string };

/** Checks that a decoded body is an AdmissionReview v1 with a request; says what is wrong otherwise. */
export function parseAdmissionReview(body: unknown): ParsedReview {
  const r = reviewSchema.safeParse(body);
  if (r.success) return { ok: true, request: r.data.request };
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  return { ok: false, error: `not an ${ADMISSION_API_VERSION} AdmissionReview: ${where}: ${issue?.message}` };
}

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface DenyStatus {
  /** HTTP-style code the client sees; the apiserver turns codes below 400 into 403. */
  code: number;
  reason: string;
  message: string;
  causes?: StatusCause[];
}

/** What a handler decides. */
export type AdmissionResult =
  | { allowed: true; patch?: JsonPatchOperation[]; warnings?: string[] }
  | { allowed: false; status: DenyStatus; warnings?: string[] };

export function allow(warnings: string[] = []): AdmissionResult {
  return warnings.length > 0 ? { allowed: true, warnings } : { allowed: true };
}

/** Allowed with changes; an empty patch is a plain allow. */
export function mutate(patch: JsonPatchOperation[], warnings: string[] = []): AdmissionResult {
  return {
    allowed: true,
    ...(patch.length > 0 ? { patch } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

export function deny(message: string, options: { code?: number; reason?: string } = {}): AdmissionResult {
  return {
    allowed: false,
    status: { code: options.code ?? 403, reason: options.reason ?? 'Forbidden', message },
  };
}

/**
 * Rejects with 422 Invalid, one cause per field: the message lists every
 * error as `path: message`, and the causes carry the field names for clients
 * that read them (kubectl prints the message).
 */
export function denyInvalid(errors: readonly FieldError[], warnings: string[] = []): AdmissionResult {
  const message = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
  return invalid(
    message,
    errors.map((e) => ({ message: e.message, field: e.path })),
    warnings,
  );
}

/** The 422 Invalid shape itself: a message for kubectl and one FieldValueInvalid cause per field. */
export function invalid(
  message: string,
  causes: readonly { message: string; field: string }[],
  warnings: string[] = [],
): AdmissionResult {
  return {
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message,
      causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
    },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: {
      code: number;
      reason: string;
      message: string;
      details?: { causes: StatusCause[] };
    };
    patchType?: 'JSONPatch';
    patch?: string;
    warnings?: string[];
  };
}

/** The AdmissionReview to send back for request `uid`. */
export function reviewResponse(uid: string, result: AdmissionResult): AdmissionReviewResponse {
  const response: AdmissionReviewResponse['response'] = { uid, allowed: result.allowed };
  if (result.allowed) {
    if (result.patch && result.patch.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(result.patch), 'utf8').toString('base64');
    }
  } else {
    const { code, reason, message, causes } = result.status;
    response.status = { code, reason, message, ...(causes?.length ? { details: { causes } } : {}) };
  }
  if (result.warnings && result.warnings.length > 0) response.warnings = result.warnings;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** The outcome label used in metrics. */
export function resultLabel(result: AdmissionResult): 'allowed' | 'denied' | 'patched' {
  if (!result.allowed) return 'denied';
  return result.patch && result.patch.length > 0 ? 'patched' : 'allowed';
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function pointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}
