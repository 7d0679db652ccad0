import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { addressKey, ipv4ToInt, type BindAddress } from '../config/interfaces.js';

/** A broadcast segment: an interface's own socket and address, and its broadcast address. */
export interface Segment {
  readonly socket: Socket;
  readonly address: string;
  readonly broadcast: string;
}

export type DatagramHandler = (message: Buffer, remote: RemoteInfo, interfaceAddress: string, replyVia: Socket) => void;

/**
 * The UDP sockets of a NetBIOS service (names on 137, datagrams on 138), as nmbd opens them:
 * one on each IPv4 address of `interfaces`, and off loopback one on the subnet's broadcast
 * address, whose traffic is answered from the interface's own socket. Only those segments ever
 * get broadcasts from netsend: `interfaces` is the administrator's choice of LANs. NetBIOS over
 * TCP/IP is IPv4 only (RFC 1001/1002 have no IPv6 mapping), so IPv6 addresses are passed over.
 * The set follows the host's addresses (`update`), as nmbd's interface rescans do.
 */
export class UdpEndpoints {
  readonly #port: number;
  readonly #onMessage: DatagramHandler;
  readonly #log: (line: string) => void;
  /** By addressKey: the interface's socket, its broadcast socket, its segment. */
  readonly #open = new Map<string, { sockets: Socket[]; segment: Segment | undefined }>();

  constructor(port: number, onMessage: DatagramHandler, log: (line: string) => void) {
    this.#port = port;
    this.#onMessage = onMessage;
    this.#log = log;
  }

  get sockets(): Socket[] {
    return [...this.#open.values()].flatMap((entry) => entry.sockets);
  }

  get segments(): Segment[] {
    return [...this.#open.values()].flatMap((entry) => (entry.segment === undefined ? [] : [entry.segment]));
  }

  /**
   * Opens sockets for the IPv4 addresses not open yet and closes those of addresses gone. An
   * address that cannot be opened is logged and skipped (the next update tries it again); with
   * `strict` (at start) its error is thrown instead, and what this call opened is closed again.
   * @returns the segments opened by this call (a name service claims its names on them)
   */
  async update(addresses: readonly BindAddress[], strict = false): Promise<Segment[]> {
    const wanted = new Map(addresses.filter((a) => a.family === 'IPv4').map((a) => [addressKey(a), a]));
    for (const [key, entry] of this.#open) {
      if (wanted.has(key)) continue;
      this.#open.delete(key);
      for (const socket of entry.sockets) socket.close();
    }
    const opened: Segment[] = [];
    const openedKeys: string[] = [];
    for (const [key, address] of wanted) {
      if (this.#open.has(key)) continue;
      try {
        const entry = await this.#openAddress(address);
        this.#open.set(key, entry);
        openedKeys.push(key);
        if (entry.segment !== undefined) opened.push(entry.segment);
      } catch (error) {
        if (strict) {
          for (const done of openedKeys) for (const socket of this.#open.get(done)?.sockets ?? []) socket.close();
          for (const done of openedKeys) this.#open.delete(done);
          throw error;
        }
        this.#log(`UDP ${address.address}:${this.#port}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; tried again at the next change`);
      }
    }
    return opened;
  }

  close(): void {
    for (const entry of this.#open.values()) for (const socket of entry.sockets) socket.close();
    this.#open.clear();
  }

  async #openAddress(address: BindAddress): Promise<{ sockets: Socket[]; segment: Segment | undefined }> {
    const sockets: Socket[] = [];
    const bind = async (bindTo: string, replyVia?: Socket): Promise<Socket> => {
      const socket = createSocket({ type: 'udp4' });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: bindTo, port: this.#port }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.on('error', (error) => this.#log(`UDP ${bindTo}:${this.#port}: ${error.message}`));
      const out = replyVia ?? socket;
      socket.on('message', (message, remote) => this.#onMessage(message, remote, address.address, out));
      return socket;
    };
    try {
      const unicast = await bind(address.address);
      const broadcast = broadcastAddress(address);
      if (broadcast === undefined) return { sockets, segment: undefined };
      await bind(broadcast, unicast);
      unicast.setBroadcast(true);
      return { sockets, segment: { socket: unicast, address: address.address, broadcast } };
    } catch (error) {
      for (const socket of sockets) socket.close();
      throw error;
    }
  }
}

/** The subnet broadcast address of an interface address, or undefined on loopback. */
export function broadcastAddress(address: BindAddress): string | undefined {
  if (address.family !== 'IPv4' || address.address.startsWith('127.')) return undefined;
  const value = (ipv4ToInt(address.address) | ~ipv4ToInt(address.netmask)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}
