import { NetApiError } from './errors.js';

/**
 * The text of NetMessageBufferSend: `buf` holds UTF-16LE code units and `buflen` counts bytes,
 * exactly as the C API takes them. A JS string stands for the LPWSTR the C# sample passes.
 */
export type MessageBuffer = string | Uint8Array;

/**
 * Decodes the first `buflen` bytes of `buf` as UTF-16LE text.
 * @throws NetApiError ERROR_INVALID_PARAMETER for an odd, negative, too large or inconsistent
 *   `buflen`, or bytes that are not well-formed UTF-16 (a lone surrogate)
 */
export function decodeMessageBuffer(buf: unknown, buflen: unknown, maxBytes: number): string {
  if (typeof buflen !== 'number' || !Number.isSafeInteger(buflen) || buflen < 0) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', 'buflen must be a byte count (a whole number, 0 or more).');
  }
  if (buflen % 2 !== 0) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `buflen ${buflen} is odd; UTF-16LE text has two bytes per code unit.`);
  }
  if (buflen > maxBytes) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `buflen ${buflen} is over the ${maxBytes}-byte message limit.`);
  }
  let units: string;
  if (typeof buf === 'string') {
    if (buflen > buf.length * 2) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `buflen ${buflen} is longer than the ${buf.length * 2}-byte buffer.`);
    }
    units = buf.slice(0, buflen / 2);
  } else if (buf instanceof Uint8Array) {
    if (buflen > buf.byteLength) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `buflen ${buflen} is longer than the ${buf.byteLength}-byte buffer.`);
    }
    units = Buffer.from(buf.buffer, buf.byteOffset, buflen).toString('utf16le');
  } else {
    throw new NetApiError('ERROR_INVALID_PARAMETER', 'buf must be a string or a Uint8Array of UTF-16LE text.');
  }
  if (!units.isWellFormed()) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', 'buf is not well-formed UTF-16 (a surrogate is unpaired).');
  }
  return units;
}

/** The UTF-16LE bytes of `text`: what a caller passes as `buf`, with `buflen` = its length. */
export function encodeMessageBuffer(text: string): Uint8Array {
  return Buffer.from(text, 'utf16le');
}
