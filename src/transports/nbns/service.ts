import type { RemoteInfo, Socket } from 'node:dgram';
import type { BindAddress } from '../../config/interfaces.js';
import { NetApiError } from '../../messenger/errors.js';
import { netbiosNames, type NetbiosNameMapping } from '../../messenger/netbios-names.js';
import { DecodeError } from '../../protocols/bytes/index.js';
import { NBNS_OPCODE, NBNS_RCODE, RR_CLASS_IN, RR_TYPE, decodeNbnsPacket, encodeNbnsPacket, type NbnsPacket, type NbnsQuestion, type NbnsRecord } from '../../protocols/nbns/index.js';
import type { NetbiosName } from '../../protocols/netbios-name/index.js';
import { UdpEndpoints, type Segment } from '../udp.js';
import { RateLimiter } from '../../policy/rate-limit.js';

/** A name this node holds on the network. */
export interface OwnedName {
  /** As NetBIOS names go on the wire: OEM bytes as latin1, upper-cased by the code page's mapping (wireName). */
  readonly name: string;
  readonly suffix: number;
  readonly group: boolean;
}

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
  log: (line: string) => void;
}

/** RFC 1002 §4.2.2: the TTL netsend gives its names; Samba uses three days too. */
export const NAME_TTL_SECONDS = 3 * 24 * 3600;
/** RFC 1002 §6: BCAST_REQ_RETRY_TIMEOUT and BCAST_REQ_RETRY_COUNT. */
export const BCAST_RETRY_MS = 250;
export const BCAST_RETRY_COUNT = 3;
/** RFC 1002 §6 gives UCAST_REQ_RETRY_TIMEOUT 5 s; a LAN's WINS answers in milliseconds, so 1 s. */
export const UCAST_RETRY_MS = 1000;
export const UCAST_RETRY_COUNT = 3;
/** Longest wait a WACK may ask for (RFC 1002 §4.2.16: its TTL), bounded so a call cannot hang. */
export const MAX_WACK_WAIT_MS = 10_000;
/** A WINS name is refreshed at half its TTL (RFC 1001 §15.1.7), at least this often apart. */
export const MIN_REFRESH_MS = 60_000;
/**
 * Answers one address gets: far more than a host resolving names needs, few enough that a
 * spoofed flood cannot turn this host into a reflector (a node status answer is several times
 * the size of its question).
 */
export const ANSWER_LIMIT = { burst: 200, ratePerSecond: 50 } as const;
/** NAME_FLAGS of a node status answer (RFC 1002 §4.2.18): ACT, plus G for group names. */
const NODE_STATUS_ACTIVE = 0x0400;
const NODE_STATUS_GROUP = 0x8000;

/**
 * The NetBIOS name service of a B-node (RFC 1001 §15.1, RFC 1002 §4.2): answers name queries and
 * node status requests for this host's names, and defends its unique names by answering anyone
 * who registers one with ACT_ERR. Replies go from the address of the interface the request came in
 * on. Registration, release, WINS and resolution build on this.
 */
export class NameService {
  readonly #options: NameServiceOptions;
  readonly #udp: UdpEndpoints;
  #addresses: readonly BindAddress[];
  /** Answers awaited for our own requests, by transaction id. */
  readonly #awaiting = new Map<number, (answer: NbnsPacket, from: RemoteInfo) => void>();
  /** Names another node defended when we claimed them: held locally, never answered for. */
  readonly #refused = new Set<string>();
  /** Refresh timers of the names registered with the WINS server. */
  readonly #refreshes = new Map<string, NodeJS.Timeout>();
  /** The last list `names()` gave, by canonical wire name (see #heldByName). */
  #nameIndex: { names: readonly OwnedName[]; byName: Map<string, OwnedName[]> } | undefined;
  #scopeOnWire: string | undefined;
  #nextId = Math.floor(Math.random() * 0xffff);
  readonly #answers: RateLimiter;

  constructor(options: NameServiceOptions) {
    this.#options = options;
    this.#answers = new RateLimiter(options.answerLimit ?? ANSWER_LIMIT);
    this.#addresses = options.addresses;
    this.#udp = new UdpEndpoints(options.port, (m, r, a, out) => this.#handle(m, r, a, out), options.log);
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
        this.#claim(name, opened).catch((error: unknown) => {
          if (!(error instanceof NetApiError)) throw error;
          this.#options.log(`name service: ${error.message} This host does not answer for it.`);
        }),
      ),
    );
  }

  get #segments(): Segment[] {
    return this.#udp.segments;
  }

  /** "address:port" of every socket. */
  get endpoints(): string[] {
    return this.#udp.sockets.map((s) => `${s.address().address}:${s.address().port}`);
  }

  stop(): void {
    for (const timer of this.#refreshes.values()) clearTimeout(timer);
    this.#refreshes.clear();
    this.#udp.close();
  }

  /**
   * Claims a unique name on every broadcast segment (RFC 1001 §15.2.2.1, B-node): the request is
   * broadcast BCAST_RETRY_COUNT times, BCAST_RETRY_MS apart; an objection from the owner ends it.
   * @throws NetApiError NERR_DuplicateName when another node holds the name
   */
  async register(name: OwnedName): Promise<void> {
    this.#refused.delete(key(name));
    const wins = this.#options.winsServer;
    if (wins !== undefined && !name.group) {
      const answer = await this.#unicast(wins, NBNS_OPCODE.registration, name);
      if (answer === undefined) throw new NetApiError('NERR_NetworkError', `The WINS server ${wins} did not answer the registration of ${this.#shown(name)}.`);
      if (answer.rcode !== NBNS_RCODE.noError) {
        this.#refused.add(key(name));
        throw new NetApiError('NERR_DuplicateName', `The WINS server ${wins} refused ${this.#shown(name)} (rcode ${answer.rcode}).`);
      }
      this.#scheduleRefresh(name, answer.answers[0]?.ttl ?? NAME_TTL_SECONDS);
    }
    await this.#claim(name, this.#segments);
  }

  /** The broadcast claim of `name` on `segments`; the first objection wins. */
  async #claim(name: OwnedName, segments: readonly Segment[]): Promise<void> {
    await Promise.all(
      segments.map(async (segment) => {
        const objections = await this.#broadcast(segment, NBNS_OPCODE.registration, name, (answer) => answer.rcode !== NBNS_RCODE.noError);
        const [objection] = objections;
        if (objection !== undefined) {
          this.#refused.add(key(name));
          throw new NetApiError('NERR_DuplicateName', `${objection.address} holds ${this.#shown(name)} on ${segment.broadcast}.`);
        }
      }),
    );
  }

  /** Gives a name back (RFC 1001 §15.2.4): one broadcast release per segment. */
  async release(name: OwnedName): Promise<void> {
    clearTimeout(this.#refreshes.get(key(name)));
    this.#refreshes.delete(key(name));
    const wins = this.#options.winsServer;
    if (wins !== undefined && !name.group) await this.#unicast(wins, NBNS_OPCODE.release, name);
    // Awaited, so that a release at shutdown leaves before the sockets close.
    await Promise.all(
      this.#segments.map(
        (segment) =>
          new Promise<void>((resolve) =>
            segment.socket.send(encodeNbnsPacket(this.#request(NBNS_OPCODE.release, name, segment.address)), this.#options.port, segment.broadcast, () => resolve()),
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
      void this.#unicast(wins, NBNS_OPCODE.refresh, name).then((answer) => {
        if (!this.#refreshes.has(key(name))) return; // released meanwhile
        if (answer === undefined) return this.#scheduleRefresh(name, (2 * minimum) / 1000);
        if (answer.rcode !== NBNS_RCODE.noError) {
          this.#refreshes.delete(key(name));
          this.#options.log(`name service: the WINS server ${wins} refused to refresh ${this.#shown(name)} (rcode ${answer.rcode}); the name is lost there`);
          return;
        }
        this.#scheduleRefresh(name, answer.answers[0]?.ttl ?? ttlSeconds);
      });
    }, delay);
    timer.unref();
    this.#refreshes.set(key(name), timer);
  }

  /** Asks the WINS server where `name<suffix>` is (RFC 1001 §15.1.3, P-node), or null. */
  async resolveWins(name: string, suffix: number): Promise<string | null> {
    const wins = this.#options.winsServer;
    if (wins === undefined) return null;
    const answer = await this.#unicast(wins, NBNS_OPCODE.query, { name, suffix, group: false });
    const data = answer?.rcode === NBNS_RCODE.noError ? answer.answers[0]?.data : undefined;
    return data?.kind === 'nb' && data.entries[0] !== undefined ? data.entries[0].address : null;
  }

  /**
   * A request to one server, retried UCAST_RETRY_COUNT times; a WACK (the server is checking
   * the current owner) extends the wait by its TTL, up to MAX_WACK_WAIT_MS.
   */
  async #unicast(server: string, opcode: number, name: OwnedName): Promise<NbnsPacket | undefined> {
    const socket = this.#udp.sockets[0];
    const address = this.#addresses.find((a) => a.family === 'IPv4')?.address;
    if (socket === undefined || address === undefined) return undefined;
    const request = this.#request(opcode, name, address, false);
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

  /** Finds the address holding `name<suffix>` by broadcast query (RFC 1001 §15.2.3), or null. */
  async resolve(name: string, suffix: number): Promise<string | null> {
    for (const segment of this.#segments) {
      const [found] = await this.#broadcast(segment, NBNS_OPCODE.query, { name, suffix, group: false }, (answer) => answer.rcode === NBNS_RCODE.noError, true);
      const entry = found?.answer.answers[0]?.data;
      if (entry?.kind === 'nb' && entry.entries[0] !== undefined) return entry.entries[0].address;
    }
    return null;
  }

  /**
   * Broadcasts a request up to BCAST_RETRY_COUNT times and collects the answers `wanted` selects;
   * stops early at the first when `firstWins`.
   */
  async #broadcast(
    segment: Segment,
    opcode: number,
    name: OwnedName,
    wanted: (answer: NbnsPacket) => boolean,
    firstWins = false,
  ): Promise<Array<{ answer: NbnsPacket; address: string }>> {
    const request = this.#request(opcode, name, segment.address);
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
  #request(opcode: number, name: OwnedName, address: string, broadcast = true): NbnsPacket {
    this.#nextId = (this.#nextId + 1) & 0xffff;
    const nbName = { name: name.name, suffix: name.suffix, scope: this.#scope };
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

  #handle(message: Buffer, remote: RemoteInfo, interfaceAddress: string, out: Socket): void {
    let request: NbnsPacket;
    try {
      request = decodeNbnsPacket(message);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return; // hostile or broken input is dropped; the network is noisy
    }
    if (request.response) {
      this.#awaiting.get(request.id)?.(request, remote);
      return;
    }
    // Our own broadcasts come back to the broadcast socket: not a question for us.
    if (this.#segments.some((segment) => segment.address === remote.address)) return;
    const reply = this.#answer(request, interfaceAddress);
    if (reply !== undefined && !this.#answers.take(remote.address)) return;
    if (reply !== undefined) out.send(encodeNbnsPacket(reply), remote.port, remote.address);
  }

  #answer(request: NbnsPacket, interfaceAddress: string): NbnsPacket | undefined {
    const [question] = request.questions;
    switch (request.opcode) {
      case NBNS_OPCODE.query: {
        if (question === undefined) return undefined;
        if (question.type === RR_TYPE.NBSTAT) return this.#nodeStatus(request, question);
        if (question.type !== RR_TYPE.NB) return undefined;
        const owned = this.#find(question.name);
        if (owned !== undefined) {
          return reply(request, NBNS_RCODE.noError, {
            name: question.name, type: RR_TYPE.NB, class: RR_CLASS_IN, ttl: NAME_TTL_SECONDS,
            data: { kind: 'nb', entries: [{ group: owned.group, nodeType: 'B', address: interfaceAddress }] },
          });
        }
        // RFC 1002 §4.2.14: a node asked directly for a name it lacks says so; broadcasts get silence.
        if (request.flags.broadcast) return undefined;
        return reply(request, NBNS_RCODE.nameError, { name: question.name, type: RR_TYPE.NULL, class: RR_CLASS_IN, ttl: 0, data: { kind: 'raw', bytes: new Uint8Array(0) } });
      }
      case NBNS_OPCODE.registration:
      case NBNS_OPCODE.multihomedRegistration: {
        // RFC 1002 §4.2.6 / RFC 1001 §15.2.2.2: the owner of a unique name defends it with ACT_ERR.
        const [record] = request.additionals;
        const owned = question === undefined ? undefined : this.#find(question.name);
        if (question === undefined || record === undefined || owned === undefined || owned.group) return undefined;
        if (record.data.kind === 'nb' && record.data.entries.some((e) => e.group)) return undefined;
        this.#options.log(`name service: defended ${this.#shown(owned)} against a registration`);
        return reply(request, NBNS_RCODE.active, { ...record, ttl: 0 });
      }
      default:
        return undefined;
    }
  }

  #nodeStatus(request: NbnsPacket, question: NbnsQuestion): NbnsPacket | undefined {
    const wildcard = question.name.name.startsWith('*');
    if (wildcard ? !this.#inScope(question.name) : this.#find(question.name) === undefined) return undefined;
    const names = this.#held().map((n) => ({ name: n.name, suffix: n.suffix, flags: NODE_STATUS_ACTIVE | (n.group ? NODE_STATUS_GROUP : 0) }));
    // STATISTICS (RFC 1002 §4.2.18): 46 bytes, starting with the unit id; netsend keeps no counters.
    return reply(request, NBNS_RCODE.noError, {
      name: question.name, type: RR_TYPE.NBSTAT, class: RR_CLASS_IN, ttl: 0,
      data: { kind: 'nodeStatus', names, statistics: new Uint8Array(46) },
    });
  }

  /**
   * The held name a request names, compared as nmbd compares after `upcase_name`: the received
   * name and scope upper-cased by the code page's mapping (so CP850's 'Ó', 0xE0, is found however
   * it was asked for), the scope being part of the name (RFC 1001 §5.2). Refused names are not held.
   */
  #find(name: NetbiosName): OwnedName | undefined {
    if (!this.#inScope(name)) return undefined;
    const found = this.#heldByName().get(key({ name: this.#mapping.wireUpper(name.name), suffix: name.suffix }));
    return found?.find((n) => !this.#refused.has(key(n)));
  }

  /** A name for people: "ÓSCAR<03>", decoded from the code page (the wire form is its bytes as latin1). */
  #shown(name: Pick<OwnedName, 'name' | 'suffix'>): string {
    return `${this.#mapping.fromWire(name.name)}<${hex(name.suffix)}>`;
  }

  /** Whether a received name is in this node's scope; scopes compare upper-cased, as in nmbd. */
  #inScope(name: NetbiosName): boolean {
    return this.#mapping.wireUpper(name.scope) === this.#scope;
  }

  /** The code page's name mapping (netbios-names.ts). */
  get #mapping(): NetbiosNameMapping {
    return netbiosNames(this.#options.charset);
  }

  /** This node's scope as it goes on the wire: upper-cased, as Samba keeps `netbios scope`. */
  get #scope(): string {
    this.#scopeOnWire ??= this.#mapping.toWire(this.#options.scope ?? '');
    return this.#scopeOnWire;
  }

  /** The names held by canonical wire key, made again when `names()` returns another list. */
  #heldByName(): Map<string, OwnedName[]> {
    const names = this.#options.names();
    if (this.#nameIndex?.names !== names) {
      const byName = new Map<string, OwnedName[]>();
      for (const n of names) {
        const canonical = key({ name: this.#mapping.wireUpper(n.name), suffix: n.suffix });
        byName.set(canonical, [...(byName.get(canonical) ?? []), n]);
      }
      this.#nameIndex = { names, byName };
    }
    return this.#nameIndex.byName;
  }

  #held(): OwnedName[] {
    return this.#options.names().filter((n) => !this.#refused.has(key(n)));
  }
}

function reply(request: NbnsPacket, rcode: number, answer: NbnsRecord): NbnsPacket {
  return {
    id: request.id,
    response: true,
    opcode: request.opcode,
    flags: { authoritative: true, truncated: false, recursionDesired: request.flags.recursionDesired, recursionAvailable: false, broadcast: false },
    rcode,
    questions: [],
    answers: [answer],
    authorities: [],
    additionals: [],
  };
}

const hex = (n: number) => n.toString(16).padStart(2, '0');
const key = (n: Pick<OwnedName, 'name' | 'suffix'>) => `${n.name}<${hex(n.suffix)}>`;
