import { DECODE_ERROR, DecodeError } from './errors.js';

/** A cursor over bytes where every read checks the bounds first. */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset: number;

  constructor(bytes: Uint8Array, offset = 0) {
    if (!Number.isInteger(offset) || offset < 0 || offset > bytes.byteLength) {
      throw new DecodeError(DECODE_ERROR.truncated, `offset ${offset} is outside the ${bytes.byteLength}-byte input`, Math.max(0, Math.trunc(offset) || 0));
    }
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#offset = offset;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.byteLength - this.#offset;
  }

  u8(): number {
    this.#need(1, 'a byte');
    return this.#view.getUint8(this.#offset++);
  }

  u16le(): number {
    this.#need(2, 'a 16-bit field');
    const value = this.#view.getUint16(this.#offset, true);
    this.#offset += 2;
    return value;
  }

  u16be(): number {
    this.#need(2, 'a 16-bit field');
    const value = this.#view.getUint16(this.#offset, false);
    this.#offset += 2;
    return value;
  }

  u32le(): number {
    this.#need(4, 'a 32-bit field');
    const value = this.#view.getUint32(this.#offset, true);
    this.#offset += 4;
    return value;
  }

  u32be(): number {
    this.#need(4, 'a 32-bit field');
    const value = this.#view.getUint32(this.#offset, false);
    this.#offset += 4;
    return value;
  }

  /** `n` bytes as a view into the input (no copy). */
  bytes(n: number, what = 'a field'): Uint8Array {
    this.#need(n, what);
    const view = this.#bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return view;
  }

  /** Bytes up to a NUL, which must come within `maxLength` bytes; the NUL is consumed. */
  cstring(maxLength: number, what = 'a string'): Uint8Array {
    const end = Math.min(this.#bytes.byteLength, this.#offset + maxLength + 1);
    const nul = this.#bytes.subarray(this.#offset, end).indexOf(0);
    if (nul < 0) {
      const code = end === this.#bytes.byteLength && end - this.#offset <= maxLength ? DECODE_ERROR.truncated : DECODE_ERROR.tooLong;
      throw new DecodeError(code, `${what} has no terminating NUL within ${maxLength} bytes`, this.#offset);
    }
    const value = this.#bytes.subarray(this.#offset, this.#offset + nul);
    this.#offset += nul + 1;
    return value;
  }

  /** Fails unless `value` is what the format requires here. */
  expect(value: number, actual: number, what: string): void {
    if (actual !== value) {
      throw new DecodeError(DECODE_ERROR.badValue, `${what} is 0x${actual.toString(16)}, expected 0x${value.toString(16)}`, this.#offset - 1);
    }
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new DecodeError(DECODE_ERROR.truncated, `${what} of ${n} bytes is cut off (${this.remaining} left)`, this.#offset);
    }
  }
}
