import type { RemoteInfo } from 'node:dgram';
import type { BindAddress } from '../../config/interfaces.js';
import { NetApiError } from '../../messenger/errors.js';
import type { IncomingMessage } from '../../messenger/message.js';
import { peerOf, senderOf } from '../../messenger/sender.js';
import type { BroadcastScope, BroadcastSender, OutgoingMessage, SendReport } from '../../messenger/messenger.js';
import { legacyText } from '../../messenger/outgoing.js';
import { DecodeError } from '../../protocols/bytes/index.js';
import {
  MAILSLOT_CLASS_UNRELIABLE, MESSENGER_MAILSLOT, decodeDatagram, decodeMailslotWrite, decodeMessengerPayload, encodeDatagram,
  encodeMailslotWrite, encodeMessengerPayload,
} from '../../protocols/mailslot/index.js';
import { SUFFIX } from '../../protocols/netbios-name/index.js';
import { decodeOem, encodeOem, fromCrlf, toCrlf } from '../../protocols/smb1/index.js';
import { wireName } from '../legacy-text.js';
import { netbiosNames } from '../../messenger/netbios-names.js';
import { UdpEndpoints, type Segment } from '../udp.js';

export interface MailslotServiceOptions {
  addresses: readonly BindAddress[];
  port: number;
  charset: string;
  /**
   * The NetBIOS scope (`netbios scope`, default ''): datagrams go out in it, and datagrams to a
   * name in another scope are dropped, as nmbd drops them (RFC 1001 §5.2).
   */
  scope?: string;
  /** This host's computer name: the source of the datagrams it sends. */
  computerName: string;
  /** Whether a datagram to `name<suffix>` is for this host (an alias <03>, or its workgroup). */
  isForUs: (name: string, suffix: number) => boolean;
  /** Stores and shows a received message; for a workgroup broadcast `to` is the workgroup. */
  deliver: (message: IncomingMessage) => Promise<unknown>;
  log: (line: string) => void;
}

/**
 * The Messenger's datagram side (RFC 1002 §4.4, [MS-MAIL]): `\MAILSLOT\MESSNGR` writes in NetBIOS
 * datagrams on UDP 138. Sends NET SEND * / /DOMAIN as a direct-group datagram to WORKGROUP<03>
 * on every broadcast segment; receives those and datagrams for this host's aliases.
 */
export class MailslotService implements BroadcastSender {
  readonly #options: MailslotServiceOptions;
  readonly #udp: UdpEndpoints;
  /** This node's scope as names carry it on the wire (`netbios scope`, upper-cased in the code page). */
  readonly #scope: string;
  #nextId = Math.floor(Math.random() * 0xffff);

  constructor(options: MailslotServiceOptions) {
    this.#options = options;
    this.#udp = new UdpEndpoints(options.port, (m, r) => this.#handle(m, r), options.log);
    this.#scope = wireName(options.scope ?? '', options.charset);
  }

  async start(): Promise<void> {
    await this.#udp.update(this.#options.addresses, true);
  }

  /** Follows the host's addresses (see os/network.ts): broadcasts go to the segments there are now. */
  async setAddresses(addresses: readonly BindAddress[]): Promise<void> {
    await this.#udp.update(addresses);
  }

  get #segments(): Segment[] {
    return this.#udp.segments;
  }

  get endpoints(): string[] {
    return this.#udp.sockets.map((s) => `${s.address().address}:${s.address().port}`);
  }

  stop(): void {
    this.#udp.close();
  }

  async broadcast(message: OutgoingMessage, scope: BroadcastScope): Promise<SendReport> {
    const { charset } = this.#options;
    const text = encodeOem(toCrlf(legacyText(message)), charset);
    const payload = encodeMessengerPayload({ from: encodeOem(message.from, charset).bytes, to: encodeOem(message.to, charset).bytes, text: text.bytes });
    const userData = encodeMailslotWrite({ mailslot: MESSENGER_MAILSLOT, priority: 1, mailslotClass: MAILSLOT_CLASS_UNRELIABLE, data: payload });
    const wire = (name: string) => wireName(name, charset);
    for (const segment of this.#segments) {
      this.#nextId = (this.#nextId + 1) & 0xffff;
      const datagram = encodeDatagram({
        type: 'directGroup', id: this.#nextId, nodeType: 0, first: true, more: false, sourceIp: segment.address, sourcePort: this.#options.port, offset: 0,
        source: { name: wire(this.#options.computerName), suffix: SUFFIX.workstation, scope: this.#scope },
        destination: { name: wire(scope.workgroup), suffix: SUFFIX.messenger, scope: this.#scope },
        userData,
      });
      await new Promise<void>((resolve, reject) => segment.socket.send(datagram, this.#options.port, segment.broadcast, (error) => (error ? reject(new NetApiError('NERR_NetworkError', error.message)) : resolve())));
    }
    // segments are the LAN addresses of "interfaces" (never loopback): none, and nobody heard it
    return { lossy: text.lossy, charset, ...(this.#segments.length > 0 ? {} : { heardNowhere: true as const }) };
  }

  #handle(message: Buffer, remote: RemoteInfo): void {
    // Our own broadcasts come back on the broadcast socket; the sender already kept a copy.
    if (this.#segments.some((segment) => segment.address === remote.address)) return;
    let delivery: IncomingMessage;
    try {
      const datagram = decodeDatagram(message);
      if (!('userData' in datagram)) return;
      // Fragmented datagrams (RFC 1002 §4.4.1 M bit, offset) are never used for messenger text.
      if (!datagram.first || datagram.more || datagram.offset !== 0) return;
      // The scope is part of the name: compared upper-cased in the code page, as nmbd does.
      const names = netbiosNames(this.#options.charset);
      if (!names.sameWire(datagram.destination.scope, this.#scope)) return;
      const destination = names.fromWire(datagram.destination.name);
      if (!this.#options.isForUs(destination, datagram.destination.suffix)) return;
      const write = decodeMailslotWrite(datagram.userData);
      if (write.mailslot.toUpperCase() !== MESSENGER_MAILSLOT) return;
      const payload = decodeMessengerPayload(write.data);
      const oem = (bytes: Uint8Array) => decodeOem(bytes, this.#options.charset);
      delivery = {
        from: names.upper(oem(payload.from)),
        to: destination,
        // Longer than NET SEND's 128 characters is tolerated: the datagram size bounds it.
        text: fromCrlf(oem(payload.text)),
        via: 'mailslot',
        sender: senderOf(peerOf(`${remote.address}:${remote.port}`)),
      };
    } catch (error) {
      if (error instanceof DecodeError) return;
      throw error;
    }
    this.#options.deliver(delivery).catch((error: unknown) => {
      // refused at the front door (audited there) or by the alias's rules: a datagram has no answer
      if (error instanceof NetApiError) return;
      this.#options.log(`mailslot: storing a message from ${remote.address} failed: ${String(error)}`);
    });
  }
}
