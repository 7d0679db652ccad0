import { DECODE_ERROR, DecodeError } from './errors.js';

/**
 * A cursor over bytes where every read checks the bounds first. Fields are put together from
 * their bytes (no DataView): a reader is made for every frame, and a view for each would cost more
 * than the reads.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  #offset: number;

  constructor(bytes: Uint8Array, offset = 0) {
    if (!Number.isInteger(offset) || offset < 0 || offset > bytes.byteLength) {
      throw new DecodeError(DECODE_ERROR.truncated, `offset ${offset} is outside the ${bytes.byteLength}-byte input`, Math.max(0, Math.trunc(offset) || 0));
    }
    this.#bytes = bytes;
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
    return this.#bytes[this.#offset++] as number;
  }

  u16le(): number {
    this.#need(2, 'a 16-bit field');
    const at = (this.#offset += 2) - 2;
    return this.#at(at) | (this.#at(at + 1) << 8);
  }

  u16be(): number {
    this.#need(2, 'a 16-bit field');
    const at = (this.#offset += 2) - 2;
    return (this.#at(at) << 8) | this.#at(at + 1);
  }

  u32le(): number {
    this.#need(4, 'a 32-bit field');
    const at = (this.#offset += 4) - 4;
    // the top byte multiplied, not shifted: a shift would make it a signed 32-bit number
    return (this.#at(at) | (this.#at(at + 1) << 8) | (this.#at(at + 2) << 16)) + this.#at(at + 3) * 0x1000000;
  }

  u32be(): number {
    this.#need(4, 'a 32-bit field');
    const at = (this.#offset += 4) - 4;
    return this.#at(at) * 0x1000000 + ((this.#at(at + 1) << 16) | (this.#at(at + 2) << 8) | this.#at(at + 3));
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

  /** A byte `#need` has checked is there. */
  #at(index: number): number {
    return this.#bytes[index] as number;
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new DecodeError(DECODE_ERROR.truncated, `${what} of ${n} bytes is cut off (${this.remaining} left)`, this.#offset);
    }
  }
}
