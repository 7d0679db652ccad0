import { DECODE_ERROR, DecodeError } from '../bytes/index.js';
import { MAX_NBSS_BODY, NBSS_HEADER, declaredBodyLength, decodeNbssPacket, type NbssPacket } from './packet.js';

/**
 * The largest session packet netsend accepts by default: an SMB message command carries at most
 * a 64 KiB text block plus headers, so anything near the protocol's 128 KiB is not a message.
 */
export const DEFAULT_MAX_FRAME = 0xffff + 512;

/**
 * Cuts a TCP byte stream into whole session packets. The declared length is checked against
 * `maxFrame` as soon as the 4-byte header is in, before the body is buffered.
 */
export class NbssFramer {
  readonly #maxFrame: number;
  #pending: Uint8Array = new Uint8Array(0);

  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.#maxFrame = Math.min(maxFrame, NBSS_HEADER + MAX_NBSS_BODY);
  }

  /** Bytes received so far that do not yet make a whole packet. */
  get buffered(): number {
    return this.#pending.byteLength;
  }

  /** @throws DecodeError for an oversized or malformed packet; the stream is then unusable */
  push(chunk: Uint8Array): NbssPacket[] {
    // No copy when nothing is pending: the chunk is decoded where it is.
    const data = this.#pending.byteLength === 0 ? chunk : concat(this.#pending, chunk);
    const packets: NbssPacket[] = [];
    let offset = 0;
    while (data.byteLength - offset >= NBSS_HEADER) {
      const size = NBSS_HEADER + declaredBodyLength(data.subarray(offset, offset + NBSS_HEADER));
      if (size > this.#maxFrame) {
        throw new DecodeError(DECODE_ERROR.tooLong, `a session packet of ${size} bytes is over the ${this.#maxFrame}-byte limit`, offset);
      }
      if (data.byteLength - offset < size) break;
      packets.push(decodeNbssPacket(data.subarray(offset, offset + size)));
      offset += size;
    }
    // Keep only the unfinished tail, copied so the caller's chunk is not pinned.
    this.#pending = offset === data.byteLength ? new Uint8Array(0) : data.slice(offset);
    return packets;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
