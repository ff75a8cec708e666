// What the converter could not map, what needs a hand, and what it made:
// the issue list every converter module appends to, and its text form for
// stderr. Pure.

/** error: not mapped (the command exits 3); warning: mapped, but read it. */
export type Severity = 'error' | 'warning';

export interface Issue {
  readonly severity: Severity;
  /** The source object, e.g. `BGPPeer metallb-system/sample` or `Service default/web`. */
  readonly object: string;
  /** Dotted path in the source object, e.g. `spec.vrf`; absent for the whole object. */
  readonly field?: string;
  readonly message: string;
}

/** One converted object, and where it came from (for the report). */
export interface Converted {
  readonly object: OutputObject;
  readonly from: string;
  /** Where the source's spec lives, when not at `spec` (legacy ConfigMap input). */
  readonly fieldPrefix?: string;
}

export interface OutputObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

/** Collects issues in the order they are found. */
export class Issues {
  readonly list: Issue[] = [];

  error(object: string, field: string | undefined, message: string): void {
    this.list.push({ severity: 'error', object, ...(field ? { field } : {}), message });
  }

  warning(object: string, field: string | undefined, message: string): void {
    this.list.push({ severity: 'warning', object, ...(field ? { field } : {}), message });
  }

  get errors(): Issue[] {
    return this.list.filter((i) => i.severity === 'error');
  }
}

const line = (i: Issue) => `  ${i.object}${i.field ? ` ${i.field}` : ''}: ${i.message}`;

/** The report printed on stderr. */
export function formatReport(r: {
  converted: readonly Converted[];
  issues: readonly Issue[];
  notes: readonly string[];
  namespace: string;
}): string {
  const out: string[] = [];
  out.push(`Converted ${r.converted.length} object(s) into namespace ${r.namespace}:`);
  for (const c of r.converted) out.push(`  ${c.object.kind} ${c.object.metadata.name}  <-  ${c.from}`);
  const errors = r.issues.filter((i) => i.severity === 'error');
  const warnings = r.issues.filter((i) => i.severity === 'warning');
  if (errors.length > 0) {
    out.push('', `Could not map (${errors.length}):`);
    for (const i of errors) out.push(line(i));
  }
  if (warnings.length > 0) {
    out.push('', `Mapped, but check (${warnings.length}):`);
    for (const i of warnings) out.push(line(i));
  }
  if (r.notes.length > 0) {
    out.push('', 'Notes:');
    for (const n of r.notes) out.push(`  ${n}`);
  }
  out.push(
    '',
    errors.length === 0
      ? 'Everything mapped.'
      : `${errors.length} thing(s) could not be mapped; the output holds everything else.`,
  );
  return `${out.join('\n')}\n`;
}
