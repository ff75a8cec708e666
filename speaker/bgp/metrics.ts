// The BGP part's metrics, read from the sessions when Prometheus scrapes:
// session state, UPDATEs and NOTIFICATIONs exchanged, prefixes announced.
import type { Registry } from 'prom-client';
import { getOrCreateGauge } from '../../lib/metrics.ts';
import type { BgpSession } from './session.ts';

export function registerBgpMetrics(
  registry: Registry,
  sessions: () => ReadonlyMap<string, BgpSession>,
): void {
  const each = (fn: (peer: string, s: BgpSession) => void) => {
    for (const [peer, s] of sessions()) fn(peer, s);
  };
  getOrCreateGauge(registry, {
    name: 'portico_bgp_session_up',
    help: '1 when the BGP session with the peer (a BGPPeer name) is Established.',
    labelNames: ['peer'],
    collect() {
      this.reset();
      each((peer, s) => this.set({ peer }, s.state === 'Established' ? 1 : 0));
    },
  });
  getOrCreateGauge(registry, {
    name: 'portico_bgp_prefixes_announced',
    help: 'Prefixes the peer has from this speaker.',
    labelNames: ['peer'],
    collect() {
      this.reset();
      each((peer, s) => this.set({ peer }, s.advertised.size));
    },
  });
  // Totals since the session object was created (a config change recreates it).
  getOrCreateGauge(registry, {
    name: 'portico_bgp_updates_total',
    help: 'UPDATE messages exchanged with the peer, by direction (sent, received).',
    labelNames: ['peer', 'direction'],
    collect() {
      this.reset();
      each((peer, s) => {
        this.set({ peer, direction: 'sent' }, s.stats.updatesSent);
        this.set({ peer, direction: 'received' }, s.stats.updatesReceived);
      });
    },
  });
  getOrCreateGauge(registry, {
    name: 'portico_bgp_notifications_total',
    help: 'NOTIFICATION messages exchanged with the peer, by direction and "code/subcode".',
    labelNames: ['peer', 'direction', 'code'],
    collect() {
      this.reset();
      each((peer, s) => {
        for (const [code, n] of Object.entries(s.stats.notificationsSent))
          this.set({ peer, direction: 'sent', code }, n);
        for (const [code, n] of Object.entries(s.stats.notificationsReceived)) {
          this.set({ peer, direction: 'received', code }, n);
        }
      });
    },
  });
}
