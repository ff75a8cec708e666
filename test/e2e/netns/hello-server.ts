// A pod's web server for the e2e tests, run inside the pod's network
// namespace: answers every request with "Hello from <name>" (as the seeds'
// pods do) and reports the client address it saw in `x-client-address`.
// Usage: node hello-server.ts <name> <port>
import { createServer } from 'node:http';

const [name = 'pod', portText = '8080'] = process.argv.slice(2);
const server = createServer((req, res) => {
  res.setHeader('x-client-address', req.socket.remoteAddress ?? '');
  res.setHeader('content-type', 'text/plain');
  res.end(`Hello from ${name}\n`);
});
// Long keep-alive, so a test can hold a connection open across a sync.
server.keepAliveTimeout = 120_000;
server.listen(Number(portText), '::', () => {
  process.stdout.write(`listening ${portText}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
