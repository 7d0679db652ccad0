import { decodeOem, encodeOem, fromCrlf, toCrlf } from '../protocols/smb1/index.js';

// Shared by every legacy transport (SMB messages, the name service, mailslot broadcasts).

/**
 * Text on the legacy wire is in the OEM code page with CRLF line ends. One exception from the
 * field: smbclient sends the whole text as raw UTF-8 when any character does not fit the code
 * page (PEERS.md §2), so a text that is valid UTF-8 with at least one multi-byte sequence is read
 * as UTF-8. (A real CP850 text is almost never valid multi-byte UTF-8: it would need box-drawing
 * characters followed by accented capitals.)
 */
export function decodeReceivedText(bytes: Uint8Array, charset: string): string {
  const text = looksLikeUtf8(bytes) ? Buffer.from(bytes).toString('utf8') : decodeOem(bytes, charset);
  // Clients end the text with a NUL or send an empty message as a lone NUL.
  return fromCrlf(text.replace(/\0+$/, ''));
}

/**
 * A name as the NetBIOS codecs carry it: upper-cased, in the OEM code page, one byte per
 * character (latin1), so "josé" becomes "JOSÉ" as CP850 byte 0x90.
 */
export function wireName(name: string, charset: string): string {
  return Buffer.from(encodeOem(name.toUpperCase(), charset).bytes).toString('latin1');
}

export function decodeOemName(bytes: Uint8Array, charset: string): string {
  return decodeOem(bytes, charset).replace(/\0+$/, '').trim();
}

/** The text as it goes on the wire, and whether a character had to be replaced. */
export function encodeTextForWire(text: string, charset: string): { bytes: Uint8Array; lossy: boolean } {
  return encodeOem(toCrlf(text), charset);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function looksLikeUtf8(bytes: Uint8Array): boolean {
  if (!bytes.some((b) => b >= 0x80)) return false; // plain ASCII reads the same either way
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
