import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { ipv4ToInt, type BindAddress } from '../config/interfaces.js';

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
 * get broadcasts from netsend: `interfaces` is the administrator's choice of LANs.
 */
export async function openUdpEndpoints(
  addresses: readonly BindAddress[],
  port: number,
  onMessage: DatagramHandler,
  log: (line: string) => void,
): Promise<{ sockets: Socket[]; segments: Segment[] }> {
  const sockets: Socket[] = [];
  const segments: Segment[] = [];
  const bind = async (bindTo: string, interfaceAddress: string, replyVia?: Socket): Promise<Socket> => {
    const socket = createSocket({ type: 'udp4' });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: bindTo, port }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (error) => log(`UDP ${bindTo}:${port}: ${error.message}`));
    const out = replyVia ?? socket;
    socket.on('message', (message, remote) => onMessage(message, remote, interfaceAddress, out));
    return socket;
  };
  try {
    for (const address of addresses) {
      if (address.family !== 'IPv4') continue;
      const unicast = await bind(address.address, address.address);
      const broadcast = broadcastAddress(address);
      if (broadcast === undefined) continue;
      await bind(broadcast, address.address, unicast);
      unicast.setBroadcast(true);
      segments.push({ socket: unicast, address: address.address, broadcast });
    }
  } catch (error) {
    for (const socket of sockets) socket.close();
    throw error;
  }
  return { sockets, segments };
}

/** The subnet broadcast address of an interface address, or undefined on loopback. */
export function broadcastAddress(address: BindAddress): string | undefined {
  if (address.family !== 'IPv4' || address.address.startsWith('127.')) return undefined;
  const value = (ipv4ToInt(address.address) | ~ipv4ToInt(address.netmask)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}
