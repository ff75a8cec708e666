// Joins two sockets both ways and closes both when either side fails: the
// core of every relay the harness and the lab run (apiserver bridges).
import type { Socket } from 'node:net';

export function splice(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
}
