// Services keep their addresses: for each LoadBalancer Service whose
// status.loadBalancer.ingress MetalLB filled, an IPReservation exactly like
// the one Portico's operator writes for a Service holding addresses (same
// name, label and spec fields; no releasedAt, since the Service exists). The
// operator loads it at start-up, so even if the Service's status is wiped
// while MetalLB is removed, the next assignment gives the same addresses back.
//
// A Service counts as MetalLB's when it carries MetalLB's allocated-from-pool
// annotation, or, for MetalLB versions that did not write it, when a
// converted pool holds its addresses. Its annotations are not rewritten: the
// operator reads MetalLB's spellings as aliases. Pure.
import { API_VERSION, parseAddressEntry, parseIP, validateIPReservation } from '../../crds/index.ts';
import {
  ALIAS_PREFIXES,
  ANNOTATION_NAMES,
  readAnnotations,
} from '../../operator/controllers/loadbalancer/annotations.ts';
import { reservationName } from '../../operator/controllers/loadbalancer/reservation.ts';
import { describe } from './input.ts';
import type { ServiceDoc } from './input.ts';
import type { Context } from './object.ts';
import type { Converted, OutputObject } from './report.ts';

/** Written by MetalLB on each Service it serves; read here, not by Portico. */
export const ALLOCATED_FROM = [
  'metallb.io/ip-allocated-from-pool',
  'metallb.universe.tf/ip-allocated-from-pool',
];
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'portico' };

interface Range {
  family: 4 | 6;
  start: bigint;
  end: bigint;
}

function poolRanges(pools: readonly OutputObject[]): Map<string, Range[]> {
  const out = new Map<string, Range[]>();
  for (const p of pools) {
    const addresses = Array.isArray(p.spec.addresses) ? (p.spec.addresses as string[]) : [];
    out.set(
      p.metadata.name,
      addresses.flatMap((a) => {
        const r = parseAddressEntry(a);
        return r.ok ? [r.value] : [];
      }),
    );
  }
  return out;
}

const holds = (ranges: readonly Range[] | undefined, ip: string) => {
  const a = parseIP(ip);
  return (
    a !== undefined &&
    (ranges ?? []).some((r) => r.family === a.family && r.start <= a.value && a.value <= r.end)
  );
};

export interface ServiceResult {
  reservations: Converted[];
  notes: string[];
}

export function reservationsFor(
  services: readonly ServiceDoc[],
  pools: readonly OutputObject[],
  ctx: Context,
): ServiceResult {
  const ranges = poolRanges(pools);
  const reservations: Converted[] = [];
  const notes: string[] = [];
  let otherTypes = 0;
  for (const svc of services) {
    if (svc.spec?.type !== 'LoadBalancer') {
      otherTypes++;
      continue;
    }
    const ns = svc.metadata.namespace ?? '';
    const name = svc.metadata.name;
    const what = describe('Service', svc.metadata);
    const annotations = svc.metadata.annotations ?? {};
    noteAnnotations(what, annotations, ranges, ctx, notes);
    const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) =>
      typeof i.ip === 'string' ? [i.ip] : [],
    );
    const declared = ALLOCATED_FROM.map((k) => annotations[k]).find((v) => v !== undefined && v !== '');
    if (ips.length === 0) {
      if (declared !== undefined)
        ctx.issues.warning(what, 'status.loadBalancer.ingress', 'no address to keep');
      continue;
    }
    const pool = poolFor(what, ips, declared, ranges, ctx);
    if (pool === undefined) continue;
    const families = ips.map((ip) => parseIP(ip)?.family);
    if (ips.length > 2 || new Set(families).size !== ips.length) {
      ctx.issues.error(
        what,
        'status.loadBalancer.ingress',
        `${ips.join(', ')}: Portico keeps at most one address per family`,
      );
      continue;
    }
    const cls = svc.spec.loadBalancerClass;
    if (cls) {
      ctx.issues.warning(
        what,
        'spec.loadBalancerClass',
        `Portico serves it only when run with --load-balancer-class=${cls}`,
      );
    }
    const sharingKey = readAnnotations(annotations).values['allow-shared-ip']?.value;
    const object: OutputObject = {
      apiVersion: API_VERSION,
      kind: 'IPReservation',
      metadata: { name: reservationName(ns, name), namespace: ctx.namespace, labels: { ...MANAGED_BY } },
      spec: {
        serviceNamespace: ns,
        serviceName: name,
        ...(svc.metadata.uid ? { serviceUID: svc.metadata.uid } : {}),
        pool,
        ips: orderByFamilies(ips, svc.spec.ipFamilies),
        ...(sharingKey ? { sharingKey } : {}),
      },
    };
    const valid = validateIPReservation(object);
    if (!valid.ok) {
      for (const e of valid.errors) ctx.issues.error(what, undefined, `reservation ${e.path}: ${e.message}`);
      continue;
    }
    reservations.push({ object, from: `${what} (${ips.join(', ')})` });
  }
  if (otherTypes > 0) notes.push(`${otherTypes} Service(s) not of type LoadBalancer: nothing to keep.`);
  return { reservations, notes };
}

/**
 * The converted pool the Service's addresses came from: the one MetalLB's
 * annotation names (which must hold them), or else the first converted pool
 * that holds them all. Undefined (and reported) when there is none.
 */
function poolFor(
  what: string,
  ips: readonly string[],
  declared: string | undefined,
  ranges: ReadonlyMap<string, Range[]>,
  ctx: Context,
): string | undefined {
  const found = [...ranges.keys()].filter((p) => ips.every((ip) => holds(ranges.get(p), ip)));
  if (declared !== undefined) {
    if (!ranges.has(declared)) {
      ctx.issues.error(
        what,
        'metadata.annotations',
        `its addresses came from pool "${declared}", which is not among the converted objects: ${ips.join(', ')} cannot be kept`,
      );
      return undefined;
    }
    if (!found.includes(declared)) {
      ctx.issues.error(
        what,
        'status.loadBalancer.ingress',
        `${ips.join(', ')} not all in pool "${declared}" as converted: cannot be kept`,
      );
      return undefined;
    }
    return declared;
  }
  if (found.length === 0) {
    ctx.issues.warning(
      what,
      'status.loadBalancer.ingress',
      `no MetalLB annotation and no converted pool holds ${ips.join(', ')}: taken as not MetalLB's, no reservation`,
    );
  }
  return found[0];
}

/** Addresses in spec.ipFamilies order, as the operator records them. */
function orderByFamilies(ips: string[], families: string[] | undefined): string[] {
  if (!families || ips.length < 2) return ips;
  const rank = (ip: string) => families.indexOf(parseIP(ip)?.family === 6 ? 'IPv6' : 'IPv4');
  return [...ips].sort((a, b) => rank(a) - rank(b));
}

function noteAnnotations(
  what: string,
  annotations: Record<string, string>,
  ranges: ReadonlyMap<string, Range[]>,
  ctx: Context,
  notes: string[],
): void {
  const aliases: string[] = [];
  for (const [key, value] of Object.entries(annotations)) {
    const prefix = ALIAS_PREFIXES.find((p) => key.startsWith(p));
    if (prefix === undefined) continue;
    const short = key.slice(prefix.length);
    if ((ANNOTATION_NAMES as readonly string[]).includes(short)) {
      aliases.push(key);
      if (short === 'address-pool' && !ranges.has(value)) {
        ctx.issues.error(
          what,
          `metadata.annotations["${key}"]`,
          `names pool "${value}", which is not among the converted objects`,
        );
      }
    } else if (!ALLOCATED_FROM.includes(key)) {
      ctx.issues.warning(what, `metadata.annotations["${key}"]`, 'Portico does not read this annotation');
    }
  }
  if (aliases.length > 0) {
    notes.push(
      `${what}: ${aliases.join(', ')} kept as is; Portico reads them as aliases of portico.io/${aliases.map((k) => k.slice(k.indexOf('/') + 1)).join(', portico.io/')}.`,
    );
  }
}
