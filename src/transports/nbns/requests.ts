/**
 * The requests this node sends (registrations, refreshes, releases, queries) and the answers it
 * waits for, matched by transaction id: broadcast to a segment (RFC 1002 §6 B-node retries) or
 * unicast to a WINS server (retries, and the wait a WACK asks for).
 */
import type { RemoteInfo } from 'node:dgram';
import type { BindAddress } from '../../config/interfaces.js';
import { NBNS_OPCODE, RR_CLASS_IN, RR_TYPE, encodeNbnsPacket, type NbnsPacket } from '../../protocols/nbns/index.js';
import type { Segment, UdpEndpoints } from '../udp.js';
import type { HeldNames, OwnedName } from './held-names.js';
import { BCAST_RETRY_COUNT, BCAST_RETRY_MS, MAX_WACK_WAIT_MS, NAME_TTL_SECONDS, UCAST_RETRY_COUNT, UCAST_RETRY_MS } from './limits.js';

export interface NameRequestsOptions {
  udp: UdpEndpoints;
  /** The name service port requests go to. */
  port: number;
  /** The addresses now (they follow the host's): a WINS request carries the first IPv4 one. */
  addresses: () => readonly BindAddress[];
  /** For this node's scope, which its requests carry. */
  held: HeldNames;
}

export class NameRequests {
  readonly #options: NameRequestsOptions;
  /** Answers awaited for our own requests, by transaction id. */
  readonly #awaiting = new Map<number, (answer: NbnsPacket, from: RemoteInfo) => void>();
  #nextId = Math.floor(Math.random() * 0xffff);

  constructor(options: NameRequestsOptions) {
    this.#options = options;
  }

  /** An answer came in: to whichever request of ours has its transaction id, if any still waits. */
  answered(answer: NbnsPacket, from: RemoteInfo): void {
    this.#awaiting.get(answer.id)?.(answer, from);
  }

  /**
   * A request to one server, retried UCAST_RETRY_COUNT times; a WACK (the server is checking
   * the current owner) extends the wait by its TTL, up to MAX_WACK_WAIT_MS.
   */
  async unicast(server: string, opcode: number, name: OwnedName): Promise<NbnsPacket | undefined> {
    const socket = this.#options.udp.sockets[0];
    const address = this.#options.addresses().find((a) => a.family === 'IPv4')?.address;
    if (socket === undefined || address === undefined) return undefined;
    const request = this.request(opcode, name, address, false);
    let settle: (answer: NbnsPacket | undefined) => void = () => {};
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<NbnsPacket | undefined>((resolve) => (settle = resolve));
    let attempts = 0;
    const attempt = () => {
      if (attempts++ >= UCAST_RETRY_COUNT) return settle(undefined);
      socket.send(encodeNbnsPacket(request), this.#options.port, server);
      timer = setTimeout(attempt, UCAST_RETRY_MS);
    };
    this.#awaiting.set(request.id, (answer) => {
      clearTimeout(timer);
      if (answer.opcode === NBNS_OPCODE.wack) {
        const ttl = answer.answers[0]?.ttl ?? 1;
        timer = setTimeout(() => settle(undefined), Math.min(ttl * 1000, MAX_WACK_WAIT_MS));
        return;
      }
      settle(answer);
    });
    try {
      attempt();
      return await answered;
    } finally {
      clearTimeout(timer);
      this.#awaiting.delete(request.id);
    }
  }

  /**
   * Broadcasts a request up to BCAST_RETRY_COUNT times and collects the answers `wanted` selects;
   * stops early at the first when `firstWins`.
   */
  async broadcast(
    segment: Segment,
    opcode: number,
    name: OwnedName,
    wanted: (answer: NbnsPacket) => boolean,
    firstWins = false,
  ): Promise<Array<{ answer: NbnsPacket; address: string }>> {
    const request = this.request(opcode, name, segment.address);
    const found: Array<{ answer: NbnsPacket; address: string }> = [];
    this.#awaiting.set(request.id, (answer, from) => {
      if (wanted(answer)) found.push({ answer, address: from.address });
    });
    try {
      for (let attempt = 0; attempt < BCAST_RETRY_COUNT && found.length === 0; attempt++) {
        segment.socket.send(encodeNbnsPacket(request), this.#options.port, segment.broadcast);
        await new Promise((resolve) => setTimeout(resolve, BCAST_RETRY_MS));
        if (firstWins && found.length > 0) break;
      }
    } finally {
      this.#awaiting.delete(request.id);
    }
    return found;
  }

  /** A request for `name`; registrations and releases carry our address (RFC 1002 §4.2.2). */
  request(opcode: number, name: OwnedName, address: string, broadcast = true): NbnsPacket {
    this.#nextId = (this.#nextId + 1) & 0xffff;
    const nbName = { name: name.name, suffix: name.suffix, scope: this.#options.held.scope };
    const claims = opcode !== NBNS_OPCODE.query;
    return {
      id: this.#nextId,
      response: false,
      opcode,
      flags: { authoritative: false, truncated: false, recursionDesired: opcode !== NBNS_OPCODE.release || !broadcast, recursionAvailable: false, broadcast },
      rcode: 0,
      questions: [{ name: nbName, type: RR_TYPE.NB, class: RR_CLASS_IN }],
      answers: [],
      authorities: [],
      additionals: claims
        ? [{ name: nbName, type: RR_TYPE.NB, class: RR_CLASS_IN, ttl: opcode === NBNS_OPCODE.release ? 0 : NAME_TTL_SECONDS, data: { kind: 'nb', entries: [{ group: name.group, nodeType: broadcast ? 'B' : 'P', address }] } }]
        : [],
    };
  }
}
