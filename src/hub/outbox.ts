/**
 * Messages this host sent through the hub: kept in the store (sealed, as the hub will see them)
 * before the sender is answered, until the hub holds them; and what their recipients said of them
 * since (the receipts that come back). A daemon killed with messages the hub has not taken sends
 * them when it starts again.
 */
import type { MessageEvent, Receipt } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import { parseReceipts, refusalFromJson } from './mail.js';
import { RANK, parseSurfaces, settles, type HubReceiptState, type OutboxState } from './progress.js';
import type { PublishEntry } from './parcels.js';
import { subjectToken } from './subject.js';

export type { HubReceiptState } from './progress.js';

/** A message to keep until the hub holds it. */
export interface OutgoingEntry {
  readonly envelopeId: string;
  readonly subject: string;
  /** The sealed envelope, JSON. */
  readonly envelope: string;
  readonly expiresAt: number | null;
  /** Who sent it (login or account name): only they, and administrators, read its receipt. */
  readonly senderUser: string | null;
}

/** One sent message as the store keeps it. */
export interface OutboxRow {
  readonly id: number;
  readonly envelopeId: string;
  readonly subject: string;
  /** The sealed envelope, JSON. */
  readonly envelope: string;
  readonly published: boolean;
  readonly state: OutboxState;
  readonly stateAt: string | null;
  /** JSON: surface → { state, by, at }, as the recipient's receipts said. */
  readonly surfaces: string;
  readonly senderUser: string | null;
  /** JSON { status, message }: why the recipient host refused it. */
  readonly refusal: string | null;
}

/** The store's side of the outbox (store/hub.ts), and the origin of received messages. */
export interface HubStore {
  addOutgoing(entry: OutgoingEntry): Promise<number>;
  getOutgoing(id: number): Promise<OutboxRow | null>;
  /** The entries these envelope ids name (those that are here), in any order. */
  outgoingByEnvelopes(envelopeIds: readonly string[]): Promise<OutboxRow[]>;
  waitingOutgoing(limit: number): Promise<OutboxRow[]>;
  countWaitingOutgoing(): Promise<number>;
  markPublished(ids: readonly number[]): Promise<void>;
  /** Entries' new states, in one commit. */
  saveOutgoingStates(states: readonly OutgoingState[]): Promise<void>;
  messageByOrigin(originId: string): Promise<number | null>;
  /** Events of messages that came through the hub whose receipts the hub may not hold yet, oldest first, after event `afterId`. */
  owedReceipts(afterId: number, limit: number): Promise<OwedReceipt[]>;
  /** The hub holds these events' receipts. */
  receiptsTold(eventIds: readonly number[]): Promise<void>;
  countOwedReceipts(): Promise<number>;
}

/** An event of a message that came through the hub, owed to its sender's host. */
export interface OwedReceipt {
  readonly event: MessageEvent;
  readonly message: StoredMessage;
}

/** Where a sent message got, as its receipts said: what applying them writes. */
export interface OutgoingState {
  id: number;
  state: OutboxState;
  stateAt: string | null;
  /** JSON: surface → { state, by, at } */
  surfaces: string;
  /** JSON { status, message } once refused */
  refusal: string | null;
}

/**
 * Publishes entries to the hub, pipelined on one connection (each host's in order): for each,
 * whether the hub holds it now (false: the hub is away, nothing sent) or why the hub did not take it.
 */
export type Publish = (entries: readonly PublishEntry[]) => Promise<Array<PromiseSettledResult<boolean>>>;

/** A receipt as read, and the host that sent it. */
type HostReceipt = ReturnType<typeof parseReceipts>[number] & { readonly host: string };
/** One waiting for a message sent to the host with subject token `hostToken` to reach `state`. */
type Waiter = { readonly hostToken: string; readonly state: HubReceiptState; readonly resolve: (reached: OutboxState | null) => void };
/** The subject token of the host an entry went to: its subject is …TO.msg.FROM. */
const hostTokenOf = (entry: Pick<OutboxRow, 'subject'>): string => entry.subject.split('.')[2] ?? '';

/** A refusal's key in #refusing: the message it refuses and the host that said so. */
const refusingKey = (receipt: HostReceipt): string => `${receipt.ref}\0${subjectToken(receipt.host)}`;

/** An entry to go straight out, and who hears whether the hub took it. */
type StraightSend = { readonly entry: PublishEntry & { id: number }; readonly told: (held: boolean) => void };

/** The outbox is read this many at a time while it drains. */
const DRAIN_BATCH = 100;
/** Most receipts applied in one read and one commit. */
const RECEIPT_BATCH = 500;
/**
 * After a publish fails, how long a send leaves its entry to wait rather than start a drain: in a
 * leader election the hub refuses at once, and a drain per send would ask it again many times a
 * second. The hub's own drain (every 3 seconds) goes on trying; one that gets through ends it.
 */
export const PUBLISH_BACKOFF_MS = 1000;

export class Outbox {
  readonly #store: HubStore;
  #draining: Promise<void> | undefined;
  /** Receipts waiting for the next batch, and whether one is scheduled (batches run one after another). */
  #receipts: Array<{ receipts: HostReceipt[]; done: () => void; failed: (error: unknown) => void }> = [];
  #applyScheduled = false;
  #applying: Promise<void> = Promise.resolve();
  /** Senders waiting for their message to reach a state, by its envelope id; refusals not yet written, by message and host (refusingKey), counted. */
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #refusing = new Map<string, number>();
  /** Whether a drain found nothing left, with no publish failed since: a new entry may then go straight out. */
  #caughtUp = false;
  /** Until when (performance.now()) a send does not start a drain, a publish having failed. */
  #backOffUntil = 0;
  readonly #backOffMs: number;
  /** Why the hub last did not take what a drain sent, said once until it changes or a drain gets through. */
  #lastFailure: string | null = null;
  /** Entries to go straight out together at the end of this turn; the publishes of those gone before, until they are marked. */
  #straight: StraightSend[] = [];
  readonly #straightRounds = new Set<Promise<void>>();
  /** Sends waiting for their entry to be published: told true once it is, false when a drain ends without it. */
  readonly #publishing = new Map<number, Array<(published: boolean) => void>>();

  /** `backOffMs`: PUBLISH_BACKOFF_MS unless a test says otherwise. */
  constructor(store: HubStore, options: { backOffMs?: number } = {}) {
    this.#backOffMs = options.backOffMs ?? PUBLISH_BACKOFF_MS;
    this.#store = store;
  }

  add(entry: OutgoingEntry): Promise<number> {
    return this.#store.addOutgoing(entry);
  }

  get(id: number): Promise<OutboxRow | null> {
    return this.#store.getOutgoing(id);
  }

  waiting(limit: number): Promise<OutboxRow[]> {
    return this.#store.waitingOutgoing(limit);
  }

  pending(): Promise<number> {
    return this.#store.countWaitingOutgoing();
  }

  /**
   * Publishes what waits, oldest first, while `go` holds, until the outbox is empty (what is added
   * meanwhile goes too); one drain at a time. A batch is published pipelined on the one
   * connection, which keeps its order; a batch with a failure ends the drain (the next one sends
   * it again: the hub drops a parcel it holds already by its id, and the recipient stores once a
   * message that came again in another parcel).
   */
  drain(publish: Publish, go: () => boolean, log: (line: string) => void = () => {}): Promise<void> {
    this.#draining ??= (async () => {
      // what went straight out is marked first, or it would be read as waiting and sent again
      await Promise.all(this.#straightRounds);
      for (let round = 0; round < 10_000 && go(); round++) {
        const waiting = await this.#store.waitingOutgoing(DRAIN_BATCH);
        if (waiting.length === 0) {
          this.#caughtUp = true;
          this.#backOffUntil = 0;
          // nothing left (what failed may have expired since): the next refusal is news again
          this.#lastFailure = null;
          return;
        }
        const sent = await publish(waiting);
        // marked in one write: the hub acknowledged each of these
        const held = waiting.filter((_, i) => {
          const result = sent[i];
          return result?.status === 'fulfilled' && result.value;
        });
        if (held.length > 0) {
          await this.#store.markPublished(held.map((entry) => entry.id));
          for (const entry of held) this.#told(entry.id, true);
        }
        if (held.length < waiting.length) {
          this.#caughtUp = false;
          this.#backOff();
          const failed = sent.find((result) => result.status === 'rejected');
          const why = failed === undefined ? 'the hub is away' : String(failed.reason);
          if (why !== this.#lastFailure) log(`hub: messages wait in the outbox: ${why}`);
          this.#lastFailure = why;
          return;
        }
        if (this.#lastFailure !== null) log('hub: the hub takes messages again; the outbox is being sent');
        this.#lastFailure = null;
        this.#backOffUntil = 0;
      }
    })()
      .catch((error: unknown) => {
        // a read or a parcel that failed: what waits goes behind it, and no send asks again at once
        this.#caughtUp = false;
        this.#backOff();
        const why = String(error);
        if (why !== this.#lastFailure) log(`hub: the outbox could not be sent yet: ${why}`);
        this.#lastFailure = why;
        throw error;
      })
      .finally(() => {
        // cleared before the waiters hear of it, so that one told "not published" can start the next drain
        this.#draining = undefined;
        for (const id of [...this.#publishing.keys()]) this.#told(id, false);
      });
    return this.#draining;
  }

  /**
   * Publishes entry `id`: resolves true once the hub holds it, or false when it waits in the
   * outbox (the hub away, or it refused a publish less than PUBLISH_BACKOFF_MS ago and no drain
   * runs: the hub's next drain sends it). When nothing older waits, it goes straight out, with
   * the others sent in the same turn of the event loop (a bundle, to a host that reads them),
   * and its mark follows (a daemon that dies first sends it again: the hub drops a second copy of
   * the same parcel by its id, the recipient one that came in another). Otherwise the drain
   * sends it behind what waits, oldest first, and this resolves without waiting for the rest of
   * the drain (under load that goes on as long as sends come in). Tries the drain twice: one
   * that was just ending when it was added may have missed it.
   */
  async publish(entry: PublishEntry & { id: number }, publish: Publish, drain: () => Promise<void>): Promise<boolean> {
    if (this.#caughtUp && this.#draining === undefined) {
      if (await new Promise<boolean>((told) => this.#goStraight({ entry, told }, publish))) return true;
      this.#caughtUp = false;
      this.#backOff();
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      // the hub refused a moment ago: the entry waits for the hub's next drain (or the one under way)
      if (this.#draining === undefined && performance.now() < this.#backOffUntil) return false;
      const published = new Promise<boolean>((resolve) => this.#publishing.set(entry.id, [...(this.#publishing.get(entry.id) ?? []), resolve]));
      void drain();
      if (await published) return true;
    }
    return false;
  }

  /**
   * Gathers what goes straight out in this turn, and publishes it all at its end; marks what the
   * hub took in one write. The round counts as under way from its first entry on, so a drain that
   * starts meanwhile waits for its marks instead of sending its entries a second time.
   */
  #goStraight(send: StraightSend, publish: Publish): void {
    this.#straight.push(send);
    if (this.#straight.length > 1) return;
    let started: () => void = () => {};
    const round = new Promise<void>((resolve) => (started = resolve))
      .then(async () => {
        const batch = this.#straight.splice(0);
        const sent = await publish(batch.map(({ entry }) => entry)).catch((error: unknown) => batch.map((): PromiseSettledResult<boolean> => ({ status: 'rejected', reason: error })));
        const held = batch.map((_, i) => {
          const result = sent[i];
          return result?.status === 'fulfilled' && result.value;
        });
        // each sender hears before the mark's commit; unmarked, an entry is sent again by the next drain
        batch.forEach(({ told }, i) => told(held[i] === true));
        const ids = batch.filter((_, i) => held[i]).map(({ entry }) => entry.id);
        if (ids.length > 0) await this.#store.markPublished(ids).catch(() => (this.#caughtUp = false));
      })
      .finally(() => this.#straightRounds.delete(round));
    this.#straightRounds.add(round);
    setImmediate(started);
  }

  #backOff(): void {
    this.#backOffUntil = performance.now() + this.#backOffMs;
  }

  #told(id: number, published: boolean): void {
    for (const resolve of this.#publishing.get(id) ?? []) resolve(published);
    this.#publishing.delete(id);
  }

  /** Resolves once a drain under way has ended. */
  async drained(): Promise<void> {
    await this.#draining?.catch(() => {});
  }

  /**
   * Receipts from `host` (opened and verified): a JSON array of `{ ref, state, surface, by, at }`. Taken
   * only from the host the message went to. Receipts that arrive together are applied together,
   * in order, with one read and one commit (a burst of sends brings a burst of receipts); one
   * batch at a time, so none overwrites another's surface.
   */
  applyReceipt(text: string, host: string): Promise<void> {
    const receipts = parseReceipts(text).map((receipt) => ({ ...receipt, host }));
    // a sender waiting hears it now, not after the batches ahead of this one are read and committed;
    // a refusal once its words are written, for the sender to read back (and nothing else before then)
    for (const receipt of receipts) {
      const key = refusingKey(receipt);
      if (receipt.state === 'refused') this.#refusing.set(key, (this.#refusing.get(key) ?? 0) + 1);
      else if (!this.#refusing.has(key)) this.#tell(receipt.ref, subjectToken(host), receipt.state);
    }
    return new Promise((done, failed) => {
      this.#receipts.push({ receipts, done, failed });
      this.#scheduleReceipts();
    });
  }

  /** Tells those waiting for message `envelopeId`, sent to the host with subject token `hostToken`, that it reached `state`. */
  #tell(envelopeId: string, hostToken: string, state: OutboxState): void {
    for (const waiter of this.#waiters.get(envelopeId) ?? []) {
      if (waiter.hostToken === hostToken && settles(state, waiter.state)) waiter.resolve(state);
    }
  }

  #scheduleReceipts(): void {
    if (this.#applyScheduled) return;
    this.#applyScheduled = true;
    this.#applying = this.#applying.then(() => this.#applyReceipts());
  }

  async #applyReceipts(): Promise<void> {
    // what arrives from here on is the next batch's
    this.#applyScheduled = false;
    const batch = this.#receipts.splice(0, RECEIPT_BATCH);
    if (this.#receipts.length > 0) this.#scheduleReceipts();
    try {
      await this.#applyBatch(batch);
      for (const receipt of batch) receipt.done();
    } catch (error) {
      for (const receipt of batch) receipt.failed(error);
    }
  }

  /**
   * Applies receipts in their order, with one read and one commit, then tells senders waiting. (A
   * sender waiting heard all but a refusal as the receipts came: what the recipient signed is so
   * whether or not this host has written it down yet; a receipt not committed is not acknowledged
   * to the hub, which sends it again.)
   */
  async #applyBatch(batch: ReadonlyArray<{ receipts: readonly HostReceipt[] }>): Promise<void> {
    const parsed = batch.flatMap(({ receipts }) => receipts);
    try {
      await this.#applyParsed(parsed);
    } finally {
      // this batch's refusals are written, or never will be: what comes after them is told again
      for (const receipt of parsed) {
        if (receipt.state !== 'refused') continue;
        const key = refusingKey(receipt);
        const left = (this.#refusing.get(key) ?? 1) - 1;
        if (left > 0) this.#refusing.set(key, left);
        else this.#refusing.delete(key);
      }
    }
  }

  async #applyParsed(parsed: readonly HostReceipt[]): Promise<void> {
    const entries = new Map((await this.#store.outgoingByEnvelopes([...new Set(parsed.map((r) => r.ref))])).map((entry) => [entry.envelopeId, entry]));
    const updated = new Map<number, OutgoingState & { envelopeId: string; hostToken: string }>();
    for (const receipt of parsed) {
      const entry = entries.get(receipt.ref);
      // the subject names the host it went to (…TO.msg.FROM)
      if (entry === undefined || hostTokenOf(entry) !== subjectToken(receipt.host)) continue;
      const now = updated.get(entry.id) ?? { id: entry.id, state: entry.state, stateAt: entry.stateAt, surfaces: entry.surfaces, refusal: entry.refusal };
      const surfaces = parseSurfaces(now.surfaces);
      if (receipt.state !== 'stored' && receipt.state !== 'refused' && receipt.surface !== null) surfaces[receipt.surface] = { state: receipt.state, by: receipt.by, at: receipt.at };
      const ahead = RANK[receipt.state] >= RANK[now.state];
      const refusal = ahead && receipt.refusal !== undefined ? JSON.stringify(receipt.refusal) : now.refusal;
      updated.set(entry.id, { id: entry.id, envelopeId: entry.envelopeId, hostToken: hostTokenOf(entry), state: ahead ? receipt.state : now.state, stateAt: ahead ? receipt.at : now.stateAt, surfaces: JSON.stringify(surfaces), refusal });
    }
    if (updated.size > 0) await this.#store.saveOutgoingStates([...updated.values()].map(({ id, state, stateAt, surfaces, refusal }) => ({ id, state, stateAt, surfaces, refusal })));
    for (const { envelopeId, hostToken, state } of updated.values()) this.#tell(envelopeId, hostToken, state);
  }

  /**
   * Resolves with the message's state once it reached `state` (or further), or ended without
   * (expired, refused); null `ms` after it is called, or after `publishing` says the hub took it
   * (at once when it says the hub did not). With `publishing` (the entry's publish, started in
   * the same turn) it listens from before the message leaves, so no receipt can come sooner and
   * the store is not looked at.
   */
  async waitFor(entry: Pick<OutboxRow, 'id' | 'envelopeId' | 'subject'>, state: HubReceiptState, ms: number, publishing?: Promise<boolean>): Promise<OutboxState | null> {
    let settle: (reached: OutboxState | null) => void = () => {};
    const reached = new Promise<OutboxState | null>((resolve) => (settle = resolve));
    const waiter: Waiter = { hostToken: hostTokenOf(entry), state, resolve: (value) => settle(value) };
    // registered before the look (or the publish), so a receipt that lands in between is not missed
    const waiters = this.#waiters.get(entry.envelopeId) ?? new Set();
    this.#waiters.set(entry.envelopeId, waiters.add(waiter));
    let timer: NodeJS.Timeout | undefined;
    try {
      // not published (yet): no receipt can come, unless one came already (a publish whose answer was lost)
      if (publishing !== undefined && !(await publishing)) waiter.resolve(null);
      else timer = setTimeout(() => waiter.resolve(null), ms);
      if (publishing === undefined) {
        const now = await this.#store.getOutgoing(entry.id);
        if (now !== null && settles(now.state, state)) waiter.resolve(now.state);
      }
      return await reached;
    } finally {
      clearTimeout(timer);
      waiters.delete(waiter);
      if (waiters.size === 0) this.#waiters.delete(entry.envelopeId);
    }
  }

  /** What became of message `id`, for its sender or an administrator; null for anyone else, as for no message. */
  async receipt(id: number, asker: { name: string | null; administrator: boolean }): Promise<Receipt | null> {
    const entry = await this.#store.getOutgoing(id);
    if (entry === null || (!asker.administrator && (entry.senderUser === null || entry.senderUser !== asker.name))) return null;
    const surfaces = parseSurfaces(entry.surfaces);
    const acknowledged = Object.entries(surfaces).find(([, s]) => s.state === 'acknowledged');
    return {
      id,
      state: entry.state,
      ...(entry.state === 'queued' && !entry.published ? { inOutbox: true as const } : {}),
      at: entry.stateAt,
      ...(entry.state === 'refused' && entry.refusal !== null ? { refusal: refusalFromJson(entry.refusal) } : {}),
      surfaces,
      ...(acknowledged === undefined ? {} : { acknowledgedOn: acknowledged[0], ...(acknowledged[1].by ? { acknowledgedBy: acknowledged[1].by } : {}) }),
    };
  }
}
