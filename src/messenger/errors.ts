import { STATUS, statusMessage, statusName, type StatusName } from './status.js';

/**
 * A failed Messenger call: carries the NET_API_STATUS the original API would have returned.
 * The idiomatic API throws it; the NetMessage* functions turn it back into the number.
 */
export class NetApiError extends Error {
  override readonly name = 'NetApiError';
  /** The NET_API_STATUS number, e.g. 2273. */
  readonly status: number;
  /** Its symbolic name, e.g. "NERR_NameNotFound"; undefined for a number netsend does not know. */
  readonly statusName: StatusName | undefined;
  /** The recipient's own answer, which asking again at another address would not change. */
  final = false;

  /** `detail` is appended to the status's standard words. */
  constructor(status: StatusName, detail?: string, options?: ErrorOptions) {
    const { code, message } = STATUS[status];
    super(detail === undefined ? message : `${message} ${detail}`, options);
    this.status = code;
    this.statusName = status;
  }

  /** Rebuilds an error received as a number and text (from the control socket, say). */
  static fromStatus(code: number, message: string = statusMessage(code), options: { final?: boolean } = {}): NetApiError {
    const error = new NetApiError('NERR_InternalError');
    error.final = options.final ?? false;
    Object.defineProperties(error, {
      status: { value: code },
      statusName: { value: statusName(code) },
      message: { value: message, writable: true, configurable: true },
    });
    return error;
  }

  toJSON(): { status: number; name: string; message: string } {
    return { status: this.status, name: this.statusName ?? 'UNKNOWN', message: this.message };
  }
}

export function isNetApiError(value: unknown): value is NetApiError {
  return value instanceof NetApiError;
}
