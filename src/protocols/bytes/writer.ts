import { ENCODE_ERROR, EncodeError } from './errors.js';

/** Bytes a writer starts with: V8 keeps a typed array of up to 64 bytes on its own heap. */
const INITIAL_SIZE = 64;

/**
 * A growable byte buffer. Growth is zero-filled and `toBytes()` returns only the bytes written,
 * so no stale memory ever reaches the wire (dns-packet's CVE-2021-23386 came from the opposite).
 *
 * Fields are written byte by byte (no DataView), into a buffer small enough to start on V8's heap:
 * most packets fit it, and it costs no allocation outside the heap until it grows.
 */
export class ByteWriter {
  #bytes = new Uint8Array(INITIAL_SIZE);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  u8(value: number): this {
    const byte = checked(value, 0xff);
    this.#room(1);
    this.#bytes[this.#length++] = byte;
    return this;
  }

  u16le(value: number): this {
    checked(value, 0xffff);
    this.#room(2);
    this.#put(this.#length, value, 2, true);
    this.#length += 2;
    return this;
  }

  u16be(value: number): this {
    checked(value, 0xffff);
    this.#room(2);
    this.#put(this.#length, value, 2, false);
    this.#length += 2;
    return this;
  }

  u32le(value: number): this {
    checked(value, 0xffffffff);
    this.#room(4);
    this.#put(this.#length, value, 4, true);
    this.#length += 4;
    return this;
  }

  u32be(value: number): this {
    checked(value, 0xffffffff);
    this.#room(4);
    this.#put(this.#length, value, 4, false);
    this.#length += 4;
    return this;
  }

  bytes(bytes: Uint8Array): this {
    this.#room(bytes.byteLength);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.byteLength;
    return this;
  }

  /**
   * Writes `size` zero bytes for a field known only later (a length) and returns where they
   * start; fill them in with the `patch` methods.
   */
  reserve(size: number): number {
    if (!Number.isInteger(size) || size < 0) throw new EncodeError(`Cannot reserve ${size} bytes`);
    const at = this.#length;
    this.#room(size);
    this.#length += size; // nothing past #length was ever written: these bytes are zero
    return at;
  }

  patchU8(at: number, value: number): void {
    this.#patchable(at, 1);
    this.#bytes[at] = checked(value, 0xff);
  }

  patchU16le(at: number, value: number): void {
    this.#patchable(at, 2);
    this.#put(at, checked(value, 0xffff), 2, true);
  }

  patchU16be(at: number, value: number): void {
    this.#patchable(at, 2);
    this.#put(at, checked(value, 0xffff), 2, false);
  }

  /**
   * A copy of the bytes written; a small one comes from Node's buffer pool, and every byte of it is
   * written here. Its `.buffer` is then the pool's: read it only with `byteOffset` and `byteLength`.
   */
  toBytes(): Uint8Array {
    const pooled = Buffer.allocUnsafe(this.#length);
    const out = new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.byteLength);
    if (this.#length > INITIAL_SIZE) out.set(this.#bytes.subarray(0, this.#length));
    // a view (subarray) of a buffer still on V8's heap would move it off the heap first
    else for (let i = 0; i < this.#length; i++) out[i] = this.#bytes[i] as number;
    return out;
  }

  /** `size` bytes of `value` (already checked to fit) at `at`. */
  #put(at: number, value: number, size: 2 | 4, littleEndian: boolean): void {
    for (let i = 0; i < size; i++) {
      // >>> reads the value as unsigned 32-bit, so values over 2^31 shift as they should
      this.#bytes[littleEndian ? at + i : at + size - 1 - i] = (value >>> (8 * i)) & 0xff;
    }
  }

  #patchable(at: number, size: number): void {
    if (!Number.isInteger(at) || at < 0 || at + size > this.#length) throw new EncodeError(`Cannot patch ${size} bytes at ${at} of ${this.#length} written`);
  }

  #room(n: number): void {
    if (this.#length + n <= this.#bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#length + n));
    // all of it (past #length it is zeros): a view (subarray) would move a buffer on V8's heap off it first
    grown.set(this.#bytes);
    this.#bytes = grown;
  }
}

function checked(value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new EncodeError(`${value} does not fit a field of at most ${max}`, ENCODE_ERROR.badValue);
  return value;
}
