// The lab's address plan: documentation and private ranges only, all of it
// inside network namespaces the lab creates (nothing touches the host's links).
//
//   client 192.0.2.2 ── router 192.0.2.1 | 198.51.100.1 ─┐  (BIRD, AS 64512)
//                                                       │
//   lan-client 198.51.100.100 ─────────── LAN bridge ───┼── node-1 198.51.100.11 ── pods 10.244.1.0/24
//                                       (198.51.100.0/24)├── node-2 198.51.100.12 ── pods 10.244.2.0/24
//                                                       └── node-3 198.51.100.13 ── pods 10.244.3.0/24
//
// Nodes route each other's pod ranges over the LAN (a host-gateway CNI), and
// send everything else to the router. LoadBalancer IPs: the L2 pool sits on the
// LAN's own subnet, so the lan-client ARPs for it; the BGP pool is routed, so
// the client behind the router reaches it only once a node announces it.

export const LAN_V4 = '198.51.100';
export const LAN_PREFIX = 24;
export const ROUTER_LAN = `${LAN_V4}.1`;
export const LAN_CLIENT = `${LAN_V4}.100`;
/** The LAN bridge's own address in the IPVS lab, where UML nodes reach the apiserver relay. */
export const LAN_RELAY = `${LAN_V4}.250`;
export const ROUTER_CLIENT_SIDE = '192.0.2.1';
export const CLIENT = '192.0.2.2';
export const ROUTER_ASN = 64512;
export const NODE_ASN = 64513;

export const L2_POOL = `${LAN_V4}.200-${LAN_V4}.220`;
export const BGP_POOL = '203.0.113.0/28';

export interface LabNode {
  readonly name: string;
  readonly ip: string;
  readonly podCIDR: string;
  /** The pod this node hosts for the hello Deployment of seed 000. */
  readonly pod: { readonly name: string; readonly ip: string };
}

export const NODES: readonly LabNode[] = [1, 2, 3].map((i) => ({
  name: `node-${i}`,
  ip: `${LAN_V4}.1${i}`,
  podCIDR: `10.244.${i}.0/24`,
  pod: { name: `hello-${i}`, ip: `10.244.${i}.10` },
}));

/** The port the pods serve "Hello from <pod>" on (seed 000 uses 8081). */
export const POD_PORT = 8081;
export const NODE_PORT = 30080;
export const NAMESPACE = 'portico-system';
export const APP_NAMESPACE = 'lab';
