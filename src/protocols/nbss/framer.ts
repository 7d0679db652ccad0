import { DECODE_ERROR, DecodeError } from '../bytes/index.js';
import { MAX_NBSS_BODY, NBSS_HEADER, decodeNbssPacket, readNbssHeader, type NbssPacket } from './packet.js';

/**
 * The largest SMB1 message there can be: the 32-byte header ([MS-CIFS] §2.2.3.1), WordCount and
 * at most 255 words (§2.2.3.2), ByteCount and at most 65,535 bytes (§2.2.3.3).
 */
const LARGEST_SMB1_MESSAGE = 32 + 1 + 2 * 255 + 2 + 0xffff;

/**
 * The largest session packet netsend accepts by default, 66,084 bytes with its header: any SMB1
 * message fits, so every message command does, while the protocol's 128 KiB (E bit) is refused
 * since nothing netsend speaks needs it.
 */
export const DEFAULT_MAX_FRAME = NBSS_HEADER + LARGEST_SMB1_MESSAGE;

/**
 * Cuts a TCP byte stream into whole session packets, however it is split. Each header is
 * checked (type, flags, size against `maxFrameSize`) as soon as its 4 bytes are in, before any
 * of the body is buffered. After a DecodeError the stream is out of step: drop the connection.
 *
 * Frames that lie whole inside a chunk are decoded in place, so their payloads are views into
 * that chunk; a frame that spans chunks is copied once, into a buffer of its declared size.
 */
export class NbssFramer {
  readonly #maxFrameSize: number;
  /** The start of a header that arrived in pieces. */
  readonly #header = new Uint8Array(NBSS_HEADER);
  #headerFilled = 0;
  /** A frame that spans chunks, allocated at its size once its header passed the checks. */
  #frame: Uint8Array | undefined;
  #frameFilled = 0;

  constructor(maxFrameSize = DEFAULT_MAX_FRAME) {
    if (!Number.isInteger(maxFrameSize) || maxFrameSize < NBSS_HEADER) throw new RangeError(`maxFrameSize ${maxFrameSize} is not a frame size`);
    this.#maxFrameSize = Math.min(maxFrameSize, NBSS_HEADER + MAX_NBSS_BODY);
  }

  /** Bytes received so far that do not yet make a whole packet. */
  get buffered(): number {
    return this.#frame === undefined ? this.#headerFilled : this.#frameFilled;
  }

  /** @throws DecodeError for an oversized or malformed packet */
  push(received: Uint8Array): NbssPacket[] {
    // Views into a Node Buffer are Buffers, each made by Node's own subarray: a plain view of the
    // same bytes makes them with V8's
    const chunk = new Uint8Array(received.buffer, received.byteOffset, received.byteLength);
    const packets: NbssPacket[] = [];
    let offset = 0;
    if (this.buffered > 0) {
      offset = this.#fill(chunk, 0);
      const finished = this.#takeFinished();
      if (finished === undefined) return packets; // the whole chunk went into the pending frame
      packets.push(finished);
    }
    while (chunk.byteLength - offset >= NBSS_HEADER) {
      const size = this.#frameSize(chunk.subarray(offset, offset + NBSS_HEADER));
      if (chunk.byteLength - offset < size) break;
      packets.push(decodeNbssPacket(chunk.subarray(offset, offset + size)));
      offset += size;
    }
    // What is left is shorter than its frame, so it only starts one.
    if (offset < chunk.byteLength) this.#fill(chunk, offset);
    return packets;
  }

  /** Copies from `chunk` into the pending header, then the pending frame; returns the new offset. */
  #fill(chunk: Uint8Array, offset: number): number {
    if (this.#frame === undefined) {
      const take = Math.min(NBSS_HEADER - this.#headerFilled, chunk.byteLength - offset);
      this.#header.set(chunk.subarray(offset, offset + take), this.#headerFilled);
      this.#headerFilled += take;
      offset += take;
      if (this.#headerFilled < NBSS_HEADER) return offset;
      this.#frame = new Uint8Array(this.#frameSize(this.#header));
      this.#frame.set(this.#header);
      this.#frameFilled = NBSS_HEADER;
    }
    const take = Math.min(this.#frame.byteLength - this.#frameFilled, chunk.byteLength - offset);
    this.#frame.set(chunk.subarray(offset, offset + take), this.#frameFilled);
    this.#frameFilled += take;
    return offset + take;
  }

  #takeFinished(): NbssPacket | undefined {
    const frame = this.#frame;
    if (frame === undefined || this.#frameFilled < frame.byteLength) return undefined;
    this.#frame = undefined;
    this.#headerFilled = this.#frameFilled = 0;
    return decodeNbssPacket(frame);
  }

  #frameSize(header: Uint8Array): number {
    const size = NBSS_HEADER + readNbssHeader(header).bodyLength;
    if (size > this.#maxFrameSize) {
      throw new DecodeError(DECODE_ERROR.tooLong, `a session packet of ${size} bytes is over the ${this.#maxFrameSize}-byte limit`, 2);
    }
    return size;
  }
}
