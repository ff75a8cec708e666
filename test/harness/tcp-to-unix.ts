// Run inside a network namespace: listens on HOST:PORT and pipes each
// connection to a Unix socket, whose other end (in the host's namespace)
// reaches the apiserver. Usage: tcp-to-unix.ts HOST PORT SOCKET
import { connect, createServer } from 'node:net';
import { splice } from './splice.ts';

const [host = '127.0.0.1', port = '0', socket = ''] = process.argv.slice(2);
const server = createServer((client) => {
  splice(client, connect(socket));
});
server.listen(Number(port), host, () => console.log(`listening on ${host}:${port}`));
process.on('SIGTERM', () => process.exit(0));
