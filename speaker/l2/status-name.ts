// The name of a ServiceL2Status: "<namespace>.<service>.<node>" when that is
// a valid object name, so `kubectl get` is readable; a hash of the three
// otherwise. Pure.
import { createHash } from 'node:crypto';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function statusName(node: string, namespace: string, service: string): string {
  const readable = `${namespace}.${service}.${node}`;
  if (readable.length <= 253 && SUBDOMAIN.test(readable)) return readable;
  const digest = createHash('sha256').update(`${namespace}/${service}/${node}`).digest('hex');
  return `l2-${digest.slice(0, 40)}`;
}
