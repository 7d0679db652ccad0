import type { RemoteInfo, Socket } from 'node:dgram';
import type { BindAddress } from '../../config/interfaces.js';
import { NetApiError } from '../../messenger/errors.js';
import { DecodeError } from '../../protocols/bytes/index.js';
import { decodeNbnsPacket, encodeNbnsPacket, type NbnsPacket } from '../../protocols/nbns/index.js';
import { UdpEndpoints } from '../udp.js';
import { HeldNames, type OwnedName } from './held-names.js';
import { NameQueries } from './queries.js';
import { NameRegistration } from './registration.js';
import { NameRequests } from './requests.js';
import { NameResponder } from './responder.js';

export type { OwnedName } from './held-names.js';
export { ANSWER_LIMIT, BCAST_RETRY_COUNT, BCAST_RETRY_MS, MAX_WACK_WAIT_MS, MIN_REFRESH_MS, NAME_TTL_SECONDS, UCAST_RETRY_COUNT, UCAST_RETRY_MS } from './limits.js';

export interface NameServiceOptions {
  /** IPv4 addresses from `interfaces`; each gets a socket, and off loopback its broadcast address too. */
  addresses: readonly BindAddress[];
  port: number;
  /** The names held right now (the alias table changes while the daemon runs). */
  names: () => readonly OwnedName[];
  /** The OEM code page of names (`dos charset`, default CP850): how a received name is upper-cased. */
  charset?: string;
  /**
   * The NetBIOS scope (`netbios scope`, default ''): part of every name (RFC 1001 §5.2), so names
   * asked for in another scope are not this node's, and its own requests carry its scope.
   */
  scope?: string;
  /** A WINS server ("wins server"): names are then registered with it and resolved through it. */
  winsServer?: string | undefined;
  /** Shortest interval between WINS refreshes; default MIN_REFRESH_MS (tests shorten it). */
  minRefreshMs?: number;
  /** Answers per source address: a burst, then a rate (default ANSWER_LIMIT). */
  answerLimit?: { burst: number; ratePerSecond: number };
  /** Names of other hosts answered for as a proxy (NameResponderOptions.proxied): the hub gateway's. */
  proxied?: (name: string) => boolean;
  log: (line: string) => void;
}

/**
 * The NetBIOS name service of a B-node (RFC 1001 §15.1, RFC 1002 §4.2): answers name queries and
 * node status requests for this host's names, and defends its unique names by answering anyone
 * who registers one with ACT_ERR. Replies go from the address of the interface the request came in
 * on. Registration, release, WINS and resolution build on this. The parts: the names held
 * (held-names.ts), the answers (responder.ts), the requests sent and their answers (requests.ts),
 * claims on names (registration.ts) and where other names are (queries.ts).
 */
export class NameService {
  readonly #options: NameServiceOptions;
  readonly #udp: UdpEndpoints;
  #addresses: readonly BindAddress[];
  readonly #requests: NameRequests;
  readonly #responder: NameResponder;
  readonly #registration: NameRegistration;
  readonly #queries: NameQueries;

  constructor(options: NameServiceOptions) {
    this.#options = options;
    this.#addresses = options.addresses;
    this.#udp = new UdpEndpoints(options.port, (m, r, a, out) => this.#handle(m, r, a, out), options.log);
    const held = new HeldNames(options);
    this.#requests = new NameRequests({ udp: this.#udp, port: options.port, addresses: () => this.#addresses, held });
    this.#responder = new NameResponder({ ...options, held });
    this.#registration = new NameRegistration({ ...options, udp: this.#udp, requests: this.#requests, held });
    this.#queries = new NameQueries({ ...options, udp: this.#udp, requests: this.#requests });
  }

  async start(): Promise<void> {
    await this.#udp.update(this.#addresses, true);
  }

  /**
   * Follows the host's addresses (see os/network.ts): sockets for new IPv4 addresses, and this
   * host's unique names claimed on each new segment (RFC 1001 §15.2.2.1), as nmbd does for an
   * interface that appears; a name another node holds there is logged and not answered for.
   */
  async setAddresses(addresses: readonly BindAddress[]): Promise<void> {
    this.#addresses = addresses;
    const opened = await this.#udp.update(addresses);
    if (opened.length === 0) return;
    await Promise.all(
      this.#options.names().map((name) =>
        this.#registration.claim(name, opened).catch((error: unknown) => {
          if (!(error instanceof NetApiError)) throw error;
          this.#options.log(`name service: ${error.message} This host does not answer for it.`);
        }),
      ),
    );
  }

  /** "address:port" of every socket. */
  get endpoints(): string[] {
    return this.#udp.sockets.map((s) => `${s.address().address}:${s.address().port}`);
  }

  stop(): void {
    this.#registration.stop();
    this.#udp.close();
  }

  /**
   * Claims a unique name on every broadcast segment (RFC 1001 §15.2.2.1, B-node): the request is
   * broadcast BCAST_RETRY_COUNT times, BCAST_RETRY_MS apart; an objection from the owner ends it.
   * With a WINS server, a unique name is registered there first.
   * @throws NetApiError NERR_DuplicateName when another node holds the name
   */
  register(name: OwnedName): Promise<void> {
    return this.#registration.register(name);
  }

  /** Gives a name back (RFC 1001 §15.2.4): one broadcast release per segment. */
  release(name: OwnedName): Promise<void> {
    return this.#registration.release(name);
  }

  /** Asks the WINS server where `name<suffix>` is (RFC 1001 §15.1.3, P-node), or null. */
  resolveWins(name: string, suffix: number): Promise<string | null> {
    return this.#queries.resolveWins(name, suffix);
  }

  /** Finds the address holding `name<suffix>` by broadcast query (RFC 1001 §15.2.3), or null. */
  resolve(name: string, suffix: number): Promise<string | null> {
    return this.#queries.resolve(name, suffix);
  }

  #handle(message: Buffer, remote: RemoteInfo, interfaceAddress: string, out: Socket): void {
    let request: NbnsPacket;
    try {
      request = decodeNbnsPacket(message);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return; // hostile or broken input is dropped; the network is noisy
    }
    if (request.response) {
      this.#requests.answered(request, remote);
      return;
    }
    // Our own broadcasts come back to the broadcast socket: not a question for us.
    if (this.#udp.segments.some((segment) => segment.address === remote.address)) return;
    const answer = this.#responder.answer(request, remote.address, interfaceAddress);
    if (answer === undefined) return;
    const send = () => out.send(encodeNbnsPacket(answer.packet), remote.port, remote.address);
    if (answer.delayMs === 0) return send();
    setTimeout(() => {
      try {
        send();
      } catch {
        // the socket closed meanwhile (the service stopped, the address went away): nothing to answer with
      }
    }, answer.delayMs).unref();
  }
}
