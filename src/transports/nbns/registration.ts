/**
 * This node's claims on its names (RFC 1001 §15.2.2, B-node): broadcast registration on each
 * segment, registration with the WINS server and its refreshes, and release. (Defending a name
 * against another node's registration is an answer: responder.ts.)
 */
import { NetApiError } from '../../messenger/errors.js';
import { NBNS_OPCODE, NBNS_RCODE, encodeNbnsPacket } from '../../protocols/nbns/index.js';
import type { Segment, UdpEndpoints } from '../udp.js';
import { key, type HeldNames, type OwnedName } from './held-names.js';
import { MIN_REFRESH_MS, NAME_TTL_SECONDS } from './limits.js';
import type { NameRequests } from './requests.js';

export interface NameRegistrationOptions {
  udp: UdpEndpoints;
  port: number;
  /** A WINS server ("wins server"): unique names are then registered with it too. */
  winsServer?: string | undefined;
  /** Shortest interval between WINS refreshes; default MIN_REFRESH_MS (tests shorten it). */
  minRefreshMs?: number;
  log: (line: string) => void;
  requests: NameRequests;
  held: HeldNames;
}

export class NameRegistration {
  readonly #options: NameRegistrationOptions;
  /** Refresh timers of the names registered with the WINS server. */
  readonly #refreshes = new Map<string, NodeJS.Timeout>();

  constructor(options: NameRegistrationOptions) {
    this.#options = options;
  }

  /** Stops refreshing (the service is stopping). */
  stop(): void {
    for (const timer of this.#refreshes.values()) clearTimeout(timer);
    this.#refreshes.clear();
  }

  /**
   * Claims a unique name on every broadcast segment (RFC 1001 §15.2.2.1, B-node): the request is
   * broadcast BCAST_RETRY_COUNT times, BCAST_RETRY_MS apart; an objection from the owner ends it.
   * @throws NetApiError NERR_DuplicateName when another node holds the name
   */
  async register(name: OwnedName): Promise<void> {
    const { held, requests } = this.#options;
    held.reclaim(name);
    const wins = this.#options.winsServer;
    if (wins !== undefined && !name.group) {
      const answer = await requests.unicast(wins, NBNS_OPCODE.registration, name);
      if (answer === undefined) throw new NetApiError('NERR_NetworkError', `The WINS server ${wins} did not answer the registration of ${held.shown(name)}.`);
      if (answer.rcode !== NBNS_RCODE.noError) {
        held.refuse(name);
        throw new NetApiError('NERR_DuplicateName', `The WINS server ${wins} refused ${held.shown(name)} (rcode ${answer.rcode}).`);
      }
      this.#scheduleRefresh(name, answer.answers[0]?.ttl ?? NAME_TTL_SECONDS);
    }
    await this.claim(name, this.#options.udp.segments);
  }

  /** The broadcast claim of `name` on `segments`; the first objection wins. */
  async claim(name: OwnedName, segments: readonly Segment[]): Promise<void> {
    const { held, requests } = this.#options;
    await Promise.all(
      segments.map(async (segment) => {
        const objections = await requests.broadcast(segment, NBNS_OPCODE.registration, name, (answer) => answer.rcode !== NBNS_RCODE.noError);
        const [objection] = objections;
        if (objection !== undefined) {
          held.refuse(name);
          throw new NetApiError('NERR_DuplicateName', `${objection.address} holds ${held.shown(name)} on ${segment.broadcast}.`);
        }
      }),
    );
  }

  /** Gives a name back (RFC 1001 §15.2.4): one broadcast release per segment. */
  async release(name: OwnedName): Promise<void> {
    const { requests } = this.#options;
    clearTimeout(this.#refreshes.get(key(name)));
    this.#refreshes.delete(key(name));
    const wins = this.#options.winsServer;
    if (wins !== undefined && !name.group) await requests.unicast(wins, NBNS_OPCODE.release, name);
    // Awaited, so that a release at shutdown leaves before the sockets close.
    await Promise.all(
      this.#options.udp.segments.map(
        (segment) =>
          new Promise<void>((resolve) =>
            segment.socket.send(encodeNbnsPacket(requests.request(NBNS_OPCODE.release, name, segment.address)), this.#options.port, segment.broadcast, () => resolve()),
          ),
      ),
    );
  }

  /**
   * Keeps a WINS registration alive (RFC 1001 §15.1.7): a refresh at half the TTL the server
   * granted; no answer is retried after MIN_REFRESH_MS, a refusal means the name is lost.
   */
  #scheduleRefresh(name: OwnedName, ttlSeconds: number): void {
    const wins = this.#options.winsServer;
    if (wins === undefined) return;
    const minimum = this.#options.minRefreshMs ?? MIN_REFRESH_MS;
    const delay = Math.min(Math.max((ttlSeconds * 1000) / 2, minimum), 2 ** 31 - 1);
    clearTimeout(this.#refreshes.get(key(name)));
    const timer = setTimeout(() => {
      void this.#options.requests.unicast(wins, NBNS_OPCODE.refresh, name).then((answer) => {
        if (!this.#refreshes.has(key(name))) return; // released meanwhile
        if (answer === undefined) return this.#scheduleRefresh(name, (2 * minimum) / 1000);
        if (answer.rcode !== NBNS_RCODE.noError) {
          this.#refreshes.delete(key(name));
          this.#options.log(`name service: the WINS server ${wins} refused to refresh ${this.#options.held.shown(name)} (rcode ${answer.rcode}); the name is lost there`);
          return;
        }
        this.#scheduleRefresh(name, answer.answers[0]?.ttl ?? ttlSeconds);
      });
    }, delay);
    timer.unref();
    this.#refreshes.set(key(name), timer);
  }
}
