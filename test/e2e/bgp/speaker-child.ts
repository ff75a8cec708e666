// Our speaker as a separate process, so a test can run it inside a network
// namespace, cut its links and SIGKILL it. Usage:
//   node speaker-child.ts '<ChildConfig JSON>'
// Prints "ready" once listening, then "state <id> <to>" for every session
// state change. Reads JSON lines on stdin: {"routes":{"<id>":[...]}} sets a
// session's routes; {"stop":true} stops every session and exits. A session
// with `bfd` also gets a BFD session to its peer ("bfd <id> <to>" lines);
// BFD going down resets the BGP session.
import { createInterface } from 'node:readline';
import { createLogger } from '../../../lib/logger.ts';
import { BfdEndpoint } from '../../../speaker/bgp/bfd/endpoint.ts';
import type { BfdPeerOptions } from '../../../speaker/bgp/bfd/endpoint.ts';
import { BgpListener } from '../../../speaker/bgp/listener.ts';
import { BgpSession } from '../../../speaker/bgp/session.ts';
import type { BgpSessionOptions } from '../../../speaker/bgp/session.ts';
import type { OutboundRoute } from '../../../speaker/bgp/rib-out.ts';

export interface ChildConfig {
  listen?: { host: string; port: number };
  sessions: Record<
    string,
    Omit<BgpSessionOptions, 'logger' | 'onStateChange'> & {
      routes?: OutboundRoute[];
      bfd?: Omit<BfdPeerOptions, 'peer' | 'localAddress' | 'onState'>;
    }
  >;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const logger = createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent' });
const listener = new BgpListener(logger);
const sessions = new Map<string, BgpSession>();
const needBfd = Object.values(config.sessions).some((s) => s.bfd);
const bfd = needBfd ? new BfdEndpoint({ logger }) : undefined;
await bfd?.start();

for (const [id, { routes, bfd: bfdOptions, ...o }] of Object.entries(config.sessions)) {
  const session = new BgpSession({
    ...o,
    logger,
    onStateChange: (to) => process.stdout.write(`state ${id} ${to}\n`),
  });
  if (routes) session.setRoutes(routes);
  sessions.set(id, session);
  listener.add(session);
  if (bfd && bfdOptions) {
    await bfd.add({
      ...bfdOptions,
      peer: o.peerAddress,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      onState: (t) => {
        process.stdout.write(`bfd ${id} ${t.to}\n`);
        if (t.from === 'Up' && t.to === 'Down') session.bfdDown();
      },
    });
  }
}
if (config.listen) await listener.listen(config.listen.port, config.listen.host);
for (const s of sessions.values()) s.start();
process.stdout.write('ready\n');

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { routes?: Record<string, OutboundRoute[]>; stop?: boolean };
  for (const [id, routes] of Object.entries(cmd.routes ?? {})) sessions.get(id)?.setRoutes(routes);
  if (cmd.stop) {
    void Promise.all([...sessions.values()].map((s) => s.stop()))
      .then(() => Promise.all([listener.close(), bfd?.close()]))
      .then(() => process.exit(0));
  }
});
