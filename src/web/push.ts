import type { ServerResponse } from 'node:http';
import type { MessageEvent } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';
import { foldName } from '../security/accounts.js';

/** Who may see a message: the web's rule, applied to the inbox API and to the live stream alike. */
export interface Viewer {
  /** The owner and Administrators see every message. */
  readonly seesAll: boolean;
  /**
   * Otherwise only messages to these names: the account's alias and the workgroup, in their
   * canonical form (upper case in the OEM code page, as messages are stored). They are compared
   * as the store's list compares them (SQLite NOCASE: ASCII letters only), so the live stream and
   * the list always agree.
   */
  readonly recipients: readonly string[];
}

export const canSee = (viewer: Viewer, to: string): boolean => {
  if (viewer.seesAll) return true;
  const name = foldName(to);
  return viewer.recipients.some((recipient) => foldName(recipient) === name);
};

export interface PushLimits {
  /** Streams open at once, over all sessions. */
  readonly maxClients: number;
  /** Streams one session may hold (tabs). */
  readonly maxPerSession: number;
  /** A stream whose unsent output passes this is closed: the browser reconnects and catches up. */
  readonly maxBufferedBytes: number;
  /** A comment line this often keeps proxies and the browser from timing the stream out. */
  readonly heartbeatMs: number;
}

export const DEFAULT_PUSH_LIMITS: PushLimits = { maxClients: 64, maxPerSession: 8, maxBufferedBytes: 1024 * 1024, heartbeatMs: 20_000 };

interface Client {
  readonly viewer: Viewer;
  readonly session: string;
  readonly response: ServerResponse;
  readonly stillAllowed: () => boolean;
  /** Cut off: nothing more is written, but it counts against the limits until its socket is closed. */
  dropped: boolean;
}

/**
 * The live part of the web inbox: a Sink in the daemon's FanOut that writes each new message as
 * a Server-Sent Event to the open pages allowed to see it. Never blocks delivery: a slow page is
 * cut off rather than buffered without end.
 */
export class PushHub implements Sink {
  readonly #limits: PushLimits;
  readonly #clients = new Set<Client>();
  #heartbeat: NodeJS.Timeout | undefined;
  /** Builds the JSON a page receives for a message (the same shape as the inbox API). */
  #render: (message: StoredMessage) => unknown = (message) => message;

  /** Told when a message went to at least one open page (for receipts: delivered on the web). */
  onDelivered: ((message: StoredMessage) => void) | undefined;

  constructor(limits: Partial<PushLimits> = {}) {
    this.#limits = { ...DEFAULT_PUSH_LIMITS, ...limits };
  }

  setRenderer(render: (message: StoredMessage) => unknown): void {
    this.#render = render;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Whether another stream may open for this session now. */
  hasRoom(session: string): boolean {
    if (this.#clients.size >= this.#limits.maxClients) return false;
    let mine = 0;
    for (const client of this.#clients) if (client.session === session) mine++;
    return mine < this.#limits.maxPerSession;
  }

  /**
   * Takes over an HTTP response as an event stream until the page goes or the session ends.
   * False, and nothing held, when the page has already gone (it left during the login check).
   */
  open(response: ServerResponse, viewer: Viewer, session: string, stillAllowed: () => boolean): boolean {
    if (response.destroyed || response.socket === null || response.socket.destroyed) return false;
    const client: Client = { viewer, session, response, stillAllowed, dropped: false };
    this.#clients.add(client);
    response.on('close', () => this.#clients.delete(client));
    this.#heartbeat ??= setInterval(() => this.#beat(), this.#limits.heartbeatMs).unref();
    return true;
  }

  /**
   * The replay after a reconnect: `messages` newest first (as the store lists them), written
   * oldest first, as many of the newest as fit in the stream's buffer bound. When some did not
   * fit, `event: reload` tells the page to fetch the list again instead.
   */
  catchUp(response: ServerResponse, messages: ReadonlyArray<{ readonly id: number }>, more = false): void {
    const frames: string[] = [];
    let bytes = response.writableLength;
    let complete = !more;
    for (const message of messages) {
      const chunk = frame('message', message, message.id);
      bytes += Buffer.byteLength(chunk);
      if (bytes > this.#limits.maxBufferedBytes) {
        complete = false;
        break;
      }
      frames.push(chunk);
    }
    if (response.destroyed) return;
    response.write(frames.reverse().join('') + (complete ? '' : frame('reload', { reason: 'more missed messages than a stream replays' })));
  }

  deliver(message: StoredMessage): void {
    if (this.#clients.size === 0) return;
    const chunk = frame('message', this.#render(message), message.id);
    let pages = 0;
    for (const client of this.#clients) {
      if (client.dropped || !canSee(client.viewer, message.to)) continue;
      this.#write(client, chunk);
      pages++;
    }
    if (pages > 0) this.onDelivered?.(message);
  }

  /** A message's state changed (read, acknowledged): tell the pages that can see it. */
  stateChanged(to: string, event: MessageEvent): void {
    const chunk = frame('state', event);
    for (const client of this.#clients) if (canSee(client.viewer, to)) this.#write(client, chunk);
  }

  /** Ends the streams of a session (logout). */
  closeSession(session: string): void {
    for (const client of this.#clients) if (client.session === session) this.#drop(client);
  }

  /** Ends the streams no longer allowed (an account changed): their pages reconnect and log in again. */
  sweep(): void {
    for (const client of this.#clients) if (!client.dropped && !client.stillAllowed()) this.#drop(client);
  }

  close(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    for (const client of this.#clients) this.#drop(client);
  }

  #write(client: Client, chunk: string): void {
    if (client.dropped) return;
    if (!client.stillAllowed() || client.response.writableLength > this.#limits.maxBufferedBytes) {
      this.#drop(client);
      return;
    }
    client.response.write(chunk);
  }

  #beat(): void {
    for (const client of this.#clients) this.#write(client, ': keep-alive\n\n');
    if (this.#clients.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  /**
   * Cuts a stream off: its socket is destroyed, not ended (an end waits behind the unread
   * output, holding the socket and its buffers). It counts until the socket's close event.
   */
  #drop(client: Client): void {
    client.dropped = true;
    client.response.destroy();
  }
}

function frame(event: string, data: unknown, id?: number): string {
  // JSON has no raw newlines, so one data line holds the whole event
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
