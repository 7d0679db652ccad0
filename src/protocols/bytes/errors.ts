/** Stable codes of the decoders' failures: callers and tests match on these, not on words. */
export const DECODE_ERROR = {
  /** The input ends before a field the format requires. */
  truncated: 'NETSEND_DECODE_TRUNCATED',
  /** A declared length is beyond the input or beyond a limit. */
  tooLong: 'NETSEND_DECODE_TOO_LONG',
  /** A field holds a value the format does not allow. */
  badValue: 'NETSEND_DECODE_BAD_VALUE',
} as const;

export type DecodeErrorCode = (typeof DECODE_ERROR)[keyof typeof DECODE_ERROR];

/** Stable codes of the encoders' refusals. */
export const ENCODE_ERROR = {
  /** A field is out of its range or holds a character the format cannot carry. */
  badValue: 'NETSEND_ENCODE_BAD_VALUE',
  /** A value is longer than its length field or the format's limit allows. */
  tooLong: 'NETSEND_ENCODE_TOO_LONG',
} as const;

export type EncodeErrorCode = (typeof ENCODE_ERROR)[keyof typeof ENCODE_ERROR];

/** Hostile or broken input: every decoder throws this, and only this. */
export class DecodeError extends RangeError {
  override readonly name = 'DecodeError';
  readonly code: DecodeErrorCode;
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;

  constructor(code: DecodeErrorCode, message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}

/** A value that cannot be put on the wire (a name too long, a field out of range). */
export class EncodeError extends TypeError {
  override readonly name = 'EncodeError';
  readonly code: EncodeErrorCode;

  constructor(message: string, code: EncodeErrorCode = ENCODE_ERROR.badValue) {
    super(message);
    this.code = code;
  }
}
