// Start-up: rebuild the allocator from what the API already says, before any
// new address is handed out (MetalLB does the same). Pure apart from the
// allocator it is given.
//
// Order: persisted reservations first, then every Service of ours that shows
// addresses in status.loadBalancer.ingress, oldest first (creationTimestamp,
// then namespace/name). An explicit restore takes an address from another
// name's reservation, so what is announced always wins over what is merely
// held. When two Services claim one address and may not share it, the older
// keeps it and the other gets a failure here (the controller reports it with
// a Warning Event and then allocates it again like any other Service).
import type { AssignFailure, FieldError, IPAllocator, Labels } from '../../allocator/index.ts';
import { toImport } from './reservation.ts';
import type { ReservationObject } from './reservation.ts';
import { ingressIPs, isOurs, restoreInfo, serviceKey } from './service.ts';
import type { ClassOptions, ServiceObject } from './service.ts';

export interface RestoreReport {
  /** Services whose addresses were re-admitted. */
  readonly restored: number;
  /** Reservations loaded. */
  readonly reservations: number;
  /** Services whose recorded addresses could not be re-admitted, with why. */
  readonly failures: readonly { readonly service: ServiceObject; readonly failure: AssignFailure }[];
  /** Reservation objects that could not be read. */
  readonly invalidReservations: readonly FieldError[];
}

function created(svc: ServiceObject): number {
  const t = Date.parse(svc.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/** Oldest first, ties by key: the order in which conflicting claims are decided. */
export function restoreOrder(services: readonly ServiceObject[]): ServiceObject[] {
  return [...services].sort((a, b) => {
    const d = created(a) - created(b);
    if (d !== 0) return d;
    const ka = serviceKey(a);
    const kb = serviceKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

export function restoreState(args: {
  allocator: IPAllocator;
  services: readonly ServiceObject[];
  reservations: readonly ReservationObject[];
  namespaceLabels: (namespace: string) => Labels;
  classes: ClassOptions;
  nowMs: number;
  holdMs: number;
}): RestoreReport {
  const { allocator } = args;
  const loaded = args.reservations.flatMap((o) => {
    const r = toImport(o, args.nowMs, args.holdMs);
    return r === undefined ? [] : [r];
  });
  const invalidReservations = allocator.importReservations(loaded);
  let restored = 0;
  const failures: { service: ServiceObject; failure: AssignFailure }[] = [];
  const ours = args.services.filter((s) => isOurs(s, args.classes) && ingressIPs(s).length > 0);
  for (const svc of restoreOrder(ours)) {
    const info = restoreInfo(svc, args.namespaceLabels(svc.metadata.namespace ?? ''));
    const result = allocator.restore(serviceKey(svc), ingressIPs(svc), info);
    if (result.ok) restored++;
    else failures.push({ service: svc, failure: result });
  }
  return {
    restored,
    reservations: allocator.reservations().length,
    failures,
    invalidReservations,
  };
}
