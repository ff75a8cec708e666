// Stable names for the objects of one virtual service. A name depends only on
// the identity of what it holds (the VIP key, the endpoint, the affinity
// timeout), never on the rest of the state, so an unchanged virtual service
// keeps its chains from sync to sync.
import { hash } from 'node:crypto';
import { endpointKey } from '../types.ts';
import type { Endpoint, VirtualService } from '../types.ts';

/** 16 base64url characters (96 bits) of SHA-256: no collision at any realistic size. */
export function shortHash(text: string): string {
  return hash('sha256', text, 'base64url').slice(0, 16);
}

// Chain names may hold letters, digits and _ . / -; keep a readable tail for
// people reading `nft list table`, the hash makes the name unique.
const KIND_TAG: Record<VirtualService['kind'], string> = {
  clusterIP: 'cluster',
  nodePort: 'nodeport',
  loadBalancer: 'lb',
  externalIP: 'external',
};

function readable(vs: VirtualService): string {
  const tail = `${vs.service}/${vs.portName || vs.port}/${KIND_TAG[vs.kind]}`.replace(
    /[^a-zA-Z0-9_./-]/g,
    '_',
  );
  return tail.slice(0, 120);
}

export function serviceChainName(vs: VirtualService): string {
  return `vs-${shortHash(vs.key)}-${readable(vs)}`;
}

export function endpointChainName(vs: VirtualService, ep: Endpoint): string {
  return `ep-${shortHash(`${vs.key}|${endpointKey(ep)}`)}-${readable(vs)}`;
}

/** The set of clients pinned to `ep`; its timeout is part of the name, since a set's timeout cannot change. */
export function affinitySetName(vs: VirtualService, ep: Endpoint, timeoutSeconds: number): string {
  return `aff-${shortHash(`${vs.key}|${endpointKey(ep)}|${timeoutSeconds}`)}`;
}
