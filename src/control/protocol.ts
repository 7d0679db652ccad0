/**
 * The control protocol between clients (CLI, library) and the daemon, over a Unix domain socket:
 * one JSON object per line. The daemon opens with a hello; each request carries an `id` that its
 * response echoes, so a client may pipeline requests.
 */
import type { OperationName, ParamsOf } from './operations/index.js';

export const PROTOCOL_VERSION = 1;

/**
 * Longest line accepted in either direction. A request carries at most one message text of
 * `max message size` (≤ 1 MiB of UTF-16, i.e. 512 Ki characters); JSON escaping can make a
 * character six bytes long, so 4 MiB holds any valid request with room to spare.
 */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export interface Hello {
  hello: 'netsend';
  version: number;
  computerName: string;
  /**
   * What this daemon takes beyond its protocol version, so that newer peers can talk to it:
   * 'title' — a delivery's title field (signed as netsend-message-v2). Absent: none.
   */
  features?: readonly string[];
}

/** The features of this daemon's hello (Hello.features). */
export const FEATURES: readonly string[] = ['title'];

/** A call of one operation of the list (operations/index.ts), with the parameters it takes. */
export type OperationRequest = { [O in OperationName]: { id: number; op: O } & ParamsOf<O> }[OperationName];

/**
 * Requests the secure channel answers itself, before or beside the operations: a logon, and a
 * message another netsend host delivers (signed by that host).
 */
export type ChannelRequest =
  | { id: number; op: 'auth'; user?: string; password?: string; token?: string }
  | { id: number; op: 'deliver'; from: string; to: string; text: string; title?: string | null; user: string | null; sentAt: string; priority: string; ttl: number | null; signature: string };

export type Request = OperationRequest | ChannelRequest;

export type Response =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; status: number; message: string };

export class LineTooLongError extends RangeError {
  override readonly name = 'LineTooLongError';
  readonly code = 'NETSEND_CONTROL_LINE_TOO_LONG';
}

/**
 * Splits a byte stream into lines. The partial line is bounded: past `maxBytes` without a newline
 * the peer is broken or hostile and the framer throws rather than buffer without end.
 */
export class LineFramer {
  /** A number, or a function for a limit that changes (the secure channel's grows at logon). */
  readonly #maxBytes: number | (() => number);
  #partial: Buffer[] = [];
  #partialBytes = 0;

  constructor(maxBytes: number | (() => number) = MAX_LINE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      this.#check(piece.length);
      lines.push(this.#partialBytes === 0 ? piece.toString('utf8') : Buffer.concat([...this.#partial, piece]).toString('utf8'));
      this.#partial = [];
      this.#partialBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#check(rest.length);
      this.#partial.push(rest);
      this.#partialBytes += rest.length;
    }
    return lines;
  }

  #check(more: number): void {
    const max = typeof this.#maxBytes === 'number' ? this.#maxBytes : this.#maxBytes();
    if (this.#partialBytes + more > max) {
      throw new LineTooLongError(`A control line is longer than ${max} bytes`);
    }
  }
}

export function encodeLine(value: Hello | Request | Response): string {
  return `${JSON.stringify(value)}\n`;
}
