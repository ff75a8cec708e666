// Run inside a client network namespace: sends a broadcast ARP request for
// VIP every INTERVAL ms out of DEV and prints one line per reply,
// "<epoch ms with fraction> <mac>", for the failover benchmark.
// Usage: arp-prober.ts DEV VIP SOURCE_IP INTERVAL_MS
import { readFileSync } from 'node:fs';
import { ARP_REQUEST, buildArp, parseArp } from '../../speaker/l2/arp.ts';
import { PacketSocket } from '../../speaker/l2/packet-socket.ts';

const [dev = 'eth0', vip = '', source = '', interval = '10'] = process.argv.slice(2);
const mac = readFileSync(`/sys/class/net/${dev}/address`, 'utf8').trim();
const ifindex = Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8'));
const now = () => performance.timeOrigin + performance.now();
const request = buildArp({
  ethDst: 'ff:ff:ff:ff:ff:ff',
  ethSrc: mac,
  op: ARP_REQUEST,
  senderMac: mac,
  senderIp: source,
  targetMac: '00:00:00:00:00:00',
  targetIp: vip,
});
const socket = PacketSocket.open();
socket.start(({ ifindex: i, frame }) => {
  const p = parseArp(frame);
  if (i === ifindex && p && p.op === 2 && p.senderIp === vip && p.targetIp === source) {
    process.stdout.write(`${now().toFixed(1)} ${p.senderMac}\n`);
  }
});
setInterval(() => socket.send(ifindex, request), Number(interval));
console.log('probing');
process.on('SIGTERM', () => {
  socket.close();
  process.exit(0);
});
