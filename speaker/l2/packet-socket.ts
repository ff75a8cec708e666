// One AF_PACKET socket through koffi (libc socket/bind/recvfrom/sendto), the
// speaker's only raw socket. It receives ARP, and ICMPv6 Neighbor
// Solicitations, from every interface (a kernel BPF filter drops everything
// else before it is queued), and sends whole Ethernet frames out of a chosen
// interface.
//
// Why a non-blocking recvfrom polled every few milliseconds: one socket for
// all interfaces needs the sockaddr_ll of each frame (which interface it came
// in on), which fs.read on the fd cannot give, and a blocking read would pin a
// libuv thread per socket. koffi's recvfrom.async was tried first and lost
// frames in our tests (see docs/decisions/0011). A poll drains everything
// queued, so the cost is at most POLL_MS of added latency on an answer; the
// takeover announcements do not wait for it.
import koffi from 'koffi';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_MR_ALLMULTI = 2;
const PACKET_OUTGOING = 4;
const SOCKADDR_LL = 20;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
/** Added latency on an answer, against about 200 cheap calls a second when idle. */
export const POLL_MS = 5;

const htons = (v: number) => ((v & 0xff) << 8) | (v >> 8);

/**
 * Classic BPF: accept ARP, and IPv6 packets whose next header is ICMPv6 and
 * whose ICMPv6 type is Neighbor Solicitation (no extension headers, as NDP
 * senders use none); drop the rest.
 */
const FILTER: ReadonlyArray<readonly [number, number, number, number]> = [
  [0x28, 0, 0, 12], // ldh [12]          ethertype
  [0x15, 5, 0, 0x0806], // jeq ARP         -> accept
  [0x15, 0, 5, 0x86dd], // jeq IPv6        else drop
  [0x30, 0, 0, 20], // ldb [20]          IPv6 next header
  [0x15, 0, 3, 58], // jeq ICMPv6      else drop
  [0x30, 0, 0, 54], // ldb [54]          ICMPv6 type
  [0x15, 0, 1, 135], // jeq NS         else drop
  [0x06, 0, 0, 0x40000], // ret accept
  [0x06, 0, 0, 0], // ret drop
];

type Fn = ReturnType<ReturnType<typeof koffi.load>['func']>;
interface Libc {
  socket: Fn;
  setsockopt: Fn;
  setsockoptFprog: Fn;
  recvfrom: Fn;
  sendto: Fn;
  close: Fn;
}

let libc: Libc | undefined;
function load(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  const filter = koffi.struct('portico_sock_filter', {
    code: 'uint16',
    jt: 'uint8',
    jf: 'uint8',
    k: 'uint32',
  });
  const fprog = koffi.struct('portico_sock_fprog', {
    len: 'uint16',
    filter: koffi.pointer(filter),
  });
  libc = {
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    setsockoptFprog: lib.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer(fprog), 'uint32_t']),
    recvfrom: lib.func('long recvfrom(int, void *, size_t, int, void *, void *)'),
    sendto: lib.func('long sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    close: lib.func('int close(int)'),
  };
  return libc;
}

export interface ReceivedFrame {
  ifindex: number;
  frame: Buffer;
}

export class PacketSocketError extends Error {}

export class PacketSocket {
  readonly #lib: Libc;
  readonly #fd: number;
  #closing = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #multicast = new Set<number>();

  private constructor(lib: Libc, fd: number) {
    this.#lib = lib;
    this.#fd = fd;
  }

  /** Opens the socket (needs CAP_NET_RAW) with its filter. */
  static open(): PacketSocket {
    const lib = load();
    const fd = lib.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)) as number;
    if (fd < 0) throw new PacketSocketError(`socket(AF_PACKET): errno ${koffi.errno()}`);
    const s = new PacketSocket(lib, fd);
    try {
      const prog = { len: FILTER.length, filter: FILTER.map(([code, jt, jf, k]) => ({ code, jt, jf, k })) };
      s.#check(lib.setsockoptFprog(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, 16) as number, 'SO_ATTACH_FILTER');
    } catch (err) {
      lib.close(fd);
      throw err;
    }
    return s;
  }

  #check(rc: number, what: string): void {
    if (rc < 0) throw new PacketSocketError(`setsockopt(${what}): errno ${koffi.errno()}`);
  }

  /**
   * Receives all multicast on an interface: solicitations go to solicited-node
   * groups a NIC would otherwise filter out, since the VIPs are not on it.
   */
  allMulticast(ifindex: number): void {
    if (this.#multicast.has(ifindex)) return;
    const mreq = Buffer.alloc(16);
    mreq.writeInt32LE(ifindex, 0);
    mreq.writeUInt16LE(PACKET_MR_ALLMULTI, 4);
    this.#check(
      this.#lib.setsockopt(this.#fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 16) as number,
      'PACKET_ADD_MEMBERSHIP',
    );
    this.#multicast.add(ifindex);
  }

  /** Sends a whole Ethernet frame out of `ifindex`; false when the kernel refused it. */
  send(ifindex: number, frame: Uint8Array): boolean {
    if (this.#closing) return false;
    const addr = Buffer.alloc(SOCKADDR_LL);
    addr.writeUInt16LE(AF_PACKET, 0);
    addr.writeUInt16BE((frame[12] ?? 0) * 256 + (frame[13] ?? 0), 2);
    addr.writeInt32LE(ifindex, 4);
    addr.writeUInt8(6, 11);
    addr.set(frame.subarray(0, 6), 12);
    const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    const n = this.#lib.sendto(this.#fd, buf, buf.length, 0, addr, SOCKADDR_LL) as number;
    return n === buf.length;
  }

  /** Starts delivering received frames (not our own outgoing ones) to `onFrame`. */
  start(onFrame: (f: ReceivedFrame) => void, onError?: (err: Error) => void): void {
    if (this.#timer) return;
    const buf = Buffer.alloc(65536);
    const addr = Buffer.alloc(SOCKADDR_LL);
    const addrLen = Buffer.alloc(4);
    this.#timer = setInterval(() => {
      // Drain what is queued; a burst larger than this waits for the next tick.
      for (let i = 0; i < 256 && !this.#closing; i++) {
        addrLen.writeUInt32LE(SOCKADDR_LL, 0);
        const n = Number(this.#lib.recvfrom(this.#fd, buf, buf.length, MSG_DONTWAIT, addr, addrLen));
        if (n < 0) {
          const errno = koffi.errno();
          if (errno !== EAGAIN) onError?.(new PacketSocketError(`recvfrom: errno ${errno}`));
          return;
        }
        if (addr.readUInt8(10) === PACKET_OUTGOING) continue;
        onFrame({ ifindex: addr.readInt32LE(4), frame: Buffer.from(buf.subarray(0, n)) });
      }
    }, POLL_MS);
  }

  /** Stops receiving and closes the fd. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#timer);
    this.#lib.close(this.#fd);
  }
}
