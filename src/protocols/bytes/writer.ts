import { EncodeError } from './errors.js';

/** A growable byte buffer; only bytes actually written are ever returned (zero-filled growth). */
export class ByteWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  u8(value: number): this {
    this.#room(1);
    this.#view.setUint8(this.#length++, checked(value, 0xff));
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

  /** Overwrites a 16-bit little-endian field written earlier (a length known only later). */
  patchU16le(at: number, value: number): void {
    if (at < 0 || at + 2 > this.#length) throw new EncodeError(`Cannot patch offset ${at} of ${this.#length} bytes`);
    this.#view.setUint16(at, checked(value, 0xffff), true);
  }

  toBytes(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
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
  if (!Number.isInteger(value) || value < 0 || value > max) throw new EncodeError(`${value} does not fit a field of at most ${max}`);
  return value;
}
