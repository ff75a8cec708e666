// The L2 part's metrics: requests received, replies and gratuitous packets
// sent (by protocol and interface), and who announces each IP.
import type { Counter, Gauge, Registry } from 'prom-client';
import { getOrCreateCounter, getOrCreateGauge } from '../../lib/metrics.ts';

export interface L2Metrics {
  requests: Counter<'protocol' | 'interface'>;
  replies: Counter<'protocol' | 'interface'>;
  gratuitous: Counter<'protocol' | 'interface'>;
  announcer: Gauge<'ip' | 'namespace' | 'service' | 'node'>;
  announcing: Gauge<'ip'>;
  liveSpeakers: Gauge;
  takeovers: Counter;
}

export function l2Metrics(registry: Registry): L2Metrics {
  return {
    requests: getOrCreateCounter(registry, {
      name: 'portico_l2_requests_received_total',
      help: 'ARP requests and Neighbor Solicitations received for any address, by protocol (arp, ndp) and interface.',
      labelNames: ['protocol', 'interface'],
    }),
    replies: getOrCreateCounter(registry, {
      name: 'portico_l2_replies_sent_total',
      help: 'ARP replies and Neighbor Advertisements sent for announced addresses.',
      labelNames: ['protocol', 'interface'],
    }),
    gratuitous: getOrCreateCounter(registry, {
      name: 'portico_l2_gratuitous_sent_total',
      help: 'Gratuitous ARP (requests and replies) and unsolicited Neighbor Advertisements sent.',
      labelNames: ['protocol', 'interface'],
    }),
    announcer: getOrCreateGauge(registry, {
      name: 'portico_l2_announcer',
      help: 'The node elected to announce each LoadBalancer IP, as this speaker sees it (1 per IP).',
      labelNames: ['ip', 'namespace', 'service', 'node'],
    }),
    announcing: getOrCreateGauge(registry, {
      name: 'portico_l2_announcing',
      help: '1 for each IP this node answers ARP/NDP for.',
      labelNames: ['ip'],
    }),
    liveSpeakers: getOrCreateGauge(registry, {
      name: 'portico_l2_live_speakers',
      help: 'Speakers this node hears heartbeats from, itself included.',
    }),
    takeovers: getOrCreateCounter(registry, {
      name: 'portico_l2_takeovers_total',
      help: 'Times this node started announcing an IP.',
    }),
  };
}
