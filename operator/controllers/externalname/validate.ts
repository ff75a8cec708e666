// Pure: is spec.externalName a name DNS can resolve? The apiserver only checks
// the RFC 1123 subdomain syntax, which lets through an IP literal (a common
// misuse: a CNAME must point at a name) and labels longer than 63 octets.

import { parseIP } from '../../allocator/index.ts';

export type ExternalNameReason = 'ExternalNameIsIPAddress' | 'InvalidExternalName';

export interface ExternalNameFinding {
  reason: ExternalNameReason;
  /** Names the field: `spec.externalName: ...`. */
  message: string;
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;

/** The name without the trailing dot, lower-cased, as it is resolved. */
export function normalizeExternalName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

export function checkExternalName(value: string | undefined): ExternalNameFinding | undefined {
  const field = 'spec.externalName';
  const shown = JSON.stringify(value ?? '');
  const bad = (why: string): ExternalNameFinding => ({
    reason: 'InvalidExternalName',
    message: `${field}: ${shown} is not a valid DNS name: ${why}`,
  });
  const name = (value ?? '').replace(/\.$/, '');
  if (name === '') return bad('it is empty');
  const bare = name.replace(/^\[(.*)\]$/, '$1');
  if (parseIP(bare).ok) {
    return {
      reason: 'ExternalNameIsIPAddress',
      message: `${field}: ${shown} is an IP address, but an ExternalName Service is a DNS CNAME and must name a host; for a fixed IP use a Service without a selector and list the IP in its Endpoints or a ServiceBackends`,
    };
  }
  if (name.length > 253) return bad(`it is ${name.length} characters long (at most 253)`);
  const labels = name.split('.');
  for (const [i, label] of labels.entries()) {
    if (label.length === 0) return bad(`label ${i + 1} is empty`);
    if (label.length > 63)
      return bad(
        `label ${JSON.stringify(label.slice(0, 20) + '…')} is ${label.length} characters long (at most 63)`,
      );
    if (!LABEL.test(label)) {
      return bad(
        `label ${JSON.stringify(label)} must be letters, digits and "-", starting and ending with a letter or digit`,
      );
    }
  }
  if (labels.length > 1 && /^[0-9]+$/.test(labels[labels.length - 1]!)) {
    return bad('the top-level label is all digits (RFC 3696), so this looks like a mistyped IP address');
  }
  return undefined;
}
