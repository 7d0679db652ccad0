import { callerKnock, networkKnock, type Admission, type Caller, type Knock } from './admission.js';
import { AliasTable, type Alias } from './aliases.js';
import { NetApiError } from './errors.js';
import { PRIORITIES, checkTitle, isPriority, type IncomingMessage, type StoredMessage } from './message.js';
import { MAX_BROADCAST_CHARACTERS, broadcastsOff, noLanForBroadcast, type BroadcastSender, type RemoteSender, type SendReport } from './outgoing.js';
import { peerOf, senderOf } from './sender.js';

export { MAX_BROADCAST_CHARACTERS, broadcastsOff } from './outgoing.js';
export type { BroadcastScope, BroadcastSender, OutgoingMessage, RemoteSender, SendOptions, SendReport } from './outgoing.js';
export type { Caller } from './admission.js';
import { aliasProblem, normalizeAlias } from './names.js';

/** The inbox: acknowledged once `append` has resolved (committed); a hub message's second copy (its origin stored) is marked `duplicate`. */
export interface MessageStore {
  append(message: IncomingMessage): Promise<StoredMessage & { readonly duplicate?: true }>;
  list(options: { afterId: number; limit: number; recipients?: readonly string[] | null }): Promise<StoredMessage[]>;
  /** The newest `limit` messages (below id `beforeId`, when given), oldest first. */
  latest(options: { limit: number; recipients?: readonly string[] | null; beforeId?: number | null }): Promise<StoredMessage[]>;
}

/** A surface that shows messages (terminal, hook, …). Must not throw and must not block. */
export interface Sink {
  deliver(message: StoredMessage): void;
}

export interface SendRequest {
  readonly to: unknown;
  readonly from?: unknown;
  readonly text: unknown;
  /** A heading over the text (checkTitle); none by default. */
  readonly title?: unknown;
  readonly host?: unknown;
  /** low | normal | high | urgent; default normal */
  readonly priority?: unknown;
  /** Seconds an unshown message waits for its recipient; default "message ttl". */
  readonly ttl?: unknown;
}

/** Longest time a message may wait for its recipient: a year. */
export const MAX_TTL_SECONDS = 366 * 24 * 3600;

export type SendResult =
  | { readonly delivered: 'local'; readonly id: number }
  | ({ readonly delivered: 'remote'; readonly recipients?: number } & SendReport);

export interface MessengerOptions {
  aliases: AliasTable;
  store: MessageStore;
  sink: Sink;
  remote?: RemoteSender | undefined;
  broadcaster?: BroadcastSender | undefined;
  /** This host's workgroup: the scope of `NET SEND *`. */
  workgroup?: string;
  /** Who has a session on this server (NET SEND /USERS): names and their hosts. */
  sessionUsers?: () => ReadonlyArray<{ name: string; address: string }>;
  /** Largest message text accepted, in UTF-16 bytes (the unit of NetMessageBufferSend's buflen). */
  maxMessageBytes: number;
  charset: string;
  admission?: Admission;
  /** Seconds a message waits for a recipient with no terminal or desktop yet ("message ttl"). */
  messageTtlSeconds?: number;
  now?: () => number;
}

/**
 * The Messenger service: the alias table, the inbox and the send path. Transports and the
 * control socket call it; it knows nothing of sockets.
 */
export class Messenger {
  readonly aliases: AliasTable;
  readonly #store: MessageStore;
  readonly #sink: Sink;
  readonly #remote: RemoteSender | undefined;
  readonly #broadcaster: BroadcastSender | undefined;
  readonly #workgroup: string | undefined;
  readonly #sessionUsers: () => ReadonlyArray<{ name: string; address: string }>;
  readonly #maxMessageBytes: number;
  readonly #charset: string;
  readonly #admission: Admission | undefined;
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(options: MessengerOptions) {
    this.aliases = options.aliases;
    this.#store = options.store;
    this.#sink = options.sink;
    this.#remote = options.remote;
    this.#broadcaster = options.broadcaster;
    this.#workgroup = options.workgroup;
    this.#sessionUsers = options.sessionUsers ?? (() => []);
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#charset = options.charset;
    this.#admission = options.admission;
    this.#ttlSeconds = options.messageTtlSeconds ?? 24 * 3600;
    this.#now = options.now ?? Date.now;
  }

  /** Largest message text accepted, in UTF-16 bytes ("max message size"). */
  get maxMessageBytes(): number {
    return this.#maxMessageBytes;
  }

  /** The OEM code page of names ("dos charset"). */
  get charset(): string {
    return this.#charset;
  }

  get computerName(): string {
    return this.aliases.computerName;
  }

  /**
   * NetMessageBufferSend: to a local alias the message is stored (and acknowledged only once
   * committed), to any other name it goes to the remote sender.
   */
  send(request: SendRequest, caller: Caller): Promise<SendResult> {
    return this.#send(request, caller, true);
  }

  /** `knock`: whether this send still has to pass the front door (the parts of /USERS passed it as one). */
  async #send(request: SendRequest, caller: Caller, knock: boolean): Promise<SendResult> {
    const to = normalizeAlias(request.to, 'message name', this.#charset);
    const from =
      request.from === undefined || request.from === null
        ? this.computerName
        : normalizeAlias(request.from, 'from name', this.#charset);
    const text = this.#checkText(request.text);
    const title = checkTitle(request.title);
    if (request.host !== undefined && typeof request.host !== 'string') {
      throw new NetApiError('ERROR_INVALID_PARAMETER', 'The host must be a string.');
    }
    const host = request.host;
    const priority = request.priority === undefined || request.priority === null ? 'normal' : request.priority;
    if (!isPriority(priority)) throw new NetApiError('ERROR_INVALID_PARAMETER', `The priority must be one of ${PRIORITIES.join(', ')}.`);
    const ttl = request.ttl === undefined || request.ttl === null ? this.#ttlSeconds : request.ttl;
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `The time to live must be a whole number of seconds up to ${MAX_TTL_SECONDS}.`);
    }

    const bytes = text.length * 2;
    if (host === undefined && this.aliases.find(to) !== undefined) {
      const stored = await this.#accept({
        from,
        to,
        ...(title === undefined ? {} : { title }),
        text,
        via: 'local',
        // a remote account's message is its own (its address), for the recipient's rules and the
        // sender's receipts; `user` is the account that really sent it, or the local caller's login
        sender: senderOf({ uid: caller.uid, ...peerOf(caller.source ?? null), user: caller.name || null }),
        priority,
        expiresAt: this.#now() + ttl * 1000,
      }, { knock: knock ? callerKnock(caller, to, bytes, true) : null });
      return { delivered: 'local', id: stored.id };
    }
    if (knock) this.#gate(callerKnock(caller, to, bytes, false));
    if (this.#remote === undefined) {
      throw new NetApiError('NERR_NameNotFound', `"${to}" is not an alias of this computer, and no network transport is enabled.`);
    }
    const report = await this.#remote.send(
      { from, to, text, ...(title === undefined ? {} : { title }), ...(caller.name ? { user: caller.name } : {}), ...(priority === 'normal' ? {} : { priority }), ...(request.ttl === undefined ? {} : { ttlSeconds: ttl }) },
      host === undefined ? {} : { host });
    return { delivered: 'remote', ...report };
  }

  /**
   * NET SEND * and NET SEND /DOMAIN[:name]: one datagram to every Messenger of the workgroup
   * (`domain` null means this host's own). Limited to 128 characters, as the original was;
   * longer texts are refused, never cut.
   */
  async broadcast(request: { from?: unknown; text: unknown; domain: unknown }, caller: Caller): Promise<SendResult> {
    const from = request.from === undefined || request.from === null ? this.computerName : normalizeAlias(request.from, 'from name', this.#charset);
    const text = this.#checkText(request.text);
    if (text.length > MAX_BROADCAST_CHARACTERS) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `Broadcast messages are limited to ${MAX_BROADCAST_CHARACTERS} characters; this one has ${text.length}.`);
    }
    const workgroup = request.domain === undefined || request.domain === null ? this.#workgroup : normalizeAlias(request.domain, 'domain', this.#charset);
    if (this.#broadcaster === undefined || workgroup === undefined) throw broadcastsOff();
    this.#gate(callerKnock(caller, workgroup, text.length * 2, false));
    const report = await this.#broadcaster.broadcast({ from, to: workgroup, text }, { workgroup });
    // to its own workgroup a lone host still holds its copy; to another, nobody would ever read it
    if (report.heardNowhere && workgroup !== this.#workgroup) throw noLanForBroadcast(workgroup);
    // The sender's own host is part of the workgroup too, as on Windows.
    if (workgroup === this.#workgroup) {
      // the broadcast passed the front door as this caller's send; the workgroup has no rules of its own
      await this.#accept({ from, to: workgroup, text, via: 'mailslot', sender: senderOf({ uid: caller.uid }) }, { knock: null, rules: false, recipient: workgroup });
    }
    return { delivered: 'remote', ...report };
  }

  /**
   * NET SEND /USERS: the message to every name with a session on this server, at the address the
   * session came from. Succeeds when it reached at least one; else the first failure is thrown.
   */
  async sendToSessionUsers(request: { from?: unknown; text: unknown }, caller: Caller): Promise<SendResult> {
    const users = new Map<string, string>();
    for (const { name, address } of this.#sessionUsers()) if (aliasProblem(name, this.#charset) === null) users.set(name, address);
    if (users.size === 0) throw new NetApiError('NERR_NameNotFound', 'No user has a session on this server.');
    // one knock for the whole call; the sends below are its parts
    this.#gate(callerKnock(caller, '/USERS', typeof request.text === 'string' ? request.text.length * 2 : 0, false));
    const outcomes = await Promise.allSettled([...users].map(([to, host]) => this.#send({ to, from: request.from, text: request.text, host }, caller, false)));
    const reached = outcomes.filter((o) => o.status === 'fulfilled').length;
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (reached === 0 && failed !== undefined) throw failed.reason;
    return { delivered: 'remote', recipients: reached };
  }

  /**
   * A broadcast for this host's workgroup (or one of its aliases) from the network: stored and
   * shown like any message, with the workgroup as recipient.
   */
  async receiveBroadcast(message: IncomingMessage): Promise<StoredMessage> {
    return this.#accept(message, { knock: networkKnock(message, message.to, true), recipient: message.to });
  }

  /**
   * A message for one of this host's aliases from the network (SMB, a mailslot datagram, a
   * netsend host): through the front door, stored first, then shown. `beforeStore` is the
   * transport's last word once the door let it in (the secure channel pins a new host's key).
   * @throws NetApiError NERR_NameNotFound when `to` is not an alias here; the front door's refusals
   */
  receive(message: IncomingMessage, options: { beforeStore?: () => Promise<void> } = {}): Promise<StoredMessage> {
    return this.#accept(message, { knock: networkKnock(message, message.to, true), ...options });
  }

  /**
   * The one way in for every message stored here, whichever way it came: the front door (unless
   * the call it belongs to passed it already: `knock` null), the recipient alias's rules, the
   * transport's last word (`beforeStore`), the store (acknowledged only once committed), the sinks.
   * `recipient`: a broadcast's workgroup, which is no alias; else the alias `to` names.
   */
  async #accept(
    message: IncomingMessage,
    options: { knock: Knock | null; recipient?: string; rules?: boolean; beforeStore?: (() => Promise<void>) | undefined },
  ): Promise<StoredMessage> {
    const recipient = options.recipient ?? this.aliases.find(message.to)?.name;
    if (recipient === undefined) throw new NetApiError('NERR_NameNotFound', `"${message.to}" is not an alias of this computer.`);
    if (options.knock !== null) this.#gate({ ...options.knock, to: recipient });
    // Every message to an alias waits for its recipient a while, the sender's choice or the host's default.
    const waiting =
      options.recipient === undefined ? { ...message, to: recipient, expiresAt: message.expiresAt ?? this.#now() + this.#ttlSeconds * 1000 } : { ...message, to: recipient };
    if (options.rules !== false) await this.#checkRules(waiting, recipient);
    if (options.beforeStore !== undefined) await options.beforeStore();
    const stored = await this.#store.append(waiting);
    // a second copy is shown no more than it is stored
    if (stored.duplicate !== true) {
      this.#sink.deliver(stored);
      return stored;
    }
    const { duplicate: _, ...first } = stored;
    return first;
  }

  /**
   * A received message for a name another host holds (the hub gateway): it passes the front door
   * as any received message does (rate limits, and this host's `legacy input` for the sender's
   * address), then goes on through `forward`; the recipient's own rules apply where it is stored.
   */
  async relay<T>(message: IncomingMessage, forward: (message: IncomingMessage) => Promise<T>): Promise<T> {
    this.#gate(networkKnock(message, message.to, false));
    // this host's own legacy input (a name it does not hold has no rules here but the host's)
    await this.#checkRules(message, message.to);
    return forward(message);
  }

  /** @throws NetApiError ERROR_ACCESS_DENIED when the rules for `name` (and this host's legacy input) refuse the message */
  async #checkRules(message: IncomingMessage, name: string): Promise<void> {
    const refused = this.#admission === undefined ? null : await this.#admission.policy(message, name);
    if (refused !== null) throw new NetApiError('ERROR_ACCESS_DENIED', refused);
  }

  /** @throws NetApiError the front door's refusal */
  #gate(knock: Knock): void {
    const refusal = this.#admission?.gate(knock) ?? null;
    if (refusal !== null) throw new NetApiError(refusal.status, refusal.reason);
  }

  /** Received messages after `afterId`, oldest first; only those to `recipients` when given. */
  inbox(afterId: number, limit: number, recipients: readonly string[] | null = null): Promise<StoredMessage[]> {
    return this.#store.list({ afterId, limit, recipients });
  }

  /**
   * The newest `limit` received messages (of those below id `beforeId`, when given), oldest
   * first; only those to `recipients` when given.
   */
  latest(limit: number, recipients: readonly string[] | null = null, beforeId: number | null = null): Promise<StoredMessage[]> {
    return this.#store.latest({ limit, recipients, beforeId });
  }

  listNames(): Alias[] {
    return this.aliases.list();
  }

  #checkText(text: unknown): string {
    if (typeof text !== 'string') throw new NetApiError('ERROR_INVALID_PARAMETER', 'The message text must be a string.');
    if (text.length * 2 > this.#maxMessageBytes) {
      throw new NetApiError(
        'ERROR_INVALID_PARAMETER',
        `The message is ${text.length * 2} bytes of UTF-16; the limit is ${this.#maxMessageBytes} ("max message size").`,
      );
    }
    if (!text.isWellFormed()) throw new NetApiError('ERROR_INVALID_PARAMETER', 'The message text has an unpaired surrogate.');
    // a blank pop-up tells the recipient nothing; what arrives over the wire is kept as sent
    if (text.trim() === '') throw new NetApiError('ERROR_INVALID_PARAMETER', 'The message is empty (or only spaces): there is nothing to send.');
    return text;
  }
}
