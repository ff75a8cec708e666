// A backend for health-check tests: answers every GET with 200 and its name.
// Usage: http-backend.ts ADDRESS PORT
import { createServer } from 'node:http';

const [address = '127.0.0.1', port = '8080'] = process.argv.slice(2);
const server = createServer((_req, res) => {
  res.setHeader('connection', 'close');
  res.end(`backend ${address}\n`);
});
server.listen(Number(port), address, () => console.log(`listening on ${address}:${port}`));
process.on('SIGTERM', () => process.exit(0));
