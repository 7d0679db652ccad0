import { ENCODE_ERROR, EncodeError } from './errors.js';

/**
 * A growable byte buffer. Growth is zero-filled and `toBytes()` returns only the bytes written,
 * so no stale memory ever reaches the wire (dns-packet's CVE-2021-23386 came from the opposite).
 */
export class ByteWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  u8(value: number): this {
    const byte = checked(value, 0xff);
    this.#room(1);
    this.#view.setUint8(this.#length++, byte);
    return this;
  }

  u16le(value: number): this {
    this.#room(2);
    this.#view.setUint16(this.#length, checked(value, 0xffff), true);
    this.#length += 2;
    return this;
  }

  u16be(value: number): this {
    this.#room(2);
    this.#view.setUint16(this.#length, checked(value, 0xffff), false);
    this.#length += 2;
    return this;
  }

  u32le(value: number): this {
    this.#room(4);
    this.#view.setUint32(this.#length, checked(value, 0xffffffff), true);
    this.#length += 4;
    return this;
  }

  u32be(value: number): this {
    this.#room(4);
    this.#view.setUint32(this.#length, checked(value, 0xffffffff), false);
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
    this.#patchable(at, 1).setUint8(at, checked(value, 0xff));
  }

  patchU16le(at: number, value: number): void {
    this.#patchable(at, 2).setUint16(at, checked(value, 0xffff), true);
  }

  patchU16be(at: number, value: number): void {
    this.#patchable(at, 2).setUint16(at, checked(value, 0xffff), false);
  }

  toBytes(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  #patchable(at: number, size: number): DataView {
    if (!Number.isInteger(at) || at < 0 || at + size > this.#length) throw new EncodeError(`Cannot patch ${size} bytes at ${at} of ${this.#length} written`);
    return this.#view;
  }

  #room(n: number): void {
    if (this.#length + n <= this.#bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#length + n));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}

function checked(value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new EncodeError(`${value} does not fit a field of at most ${max}`, ENCODE_ERROR.badValue);
  return value;
}
