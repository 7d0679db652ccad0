import { netbiosNames } from '../messenger/netbios-names.js';
import { decodeOem, encodeOem, fromCrlf, toCrlf } from '../protocols/smb1/index.js';
import { readsAsUtf8 } from './legacy-text-decode.js';

// Shared by every legacy transport (SMB messages, the name service, mailslot broadcasts).

/**
 * Text on the legacy wire is in the OEM code page with CRLF line ends, and is read so, as smbd
 * does. smbclient sends a text the code page cannot carry as raw UTF-8 (PEERS.md §2); that is
 * read as UTF-8 only where the code page could not mean the same bytes (`readsAsUtf8`).
 */
export function decodeReceivedText(bytes: Uint8Array, charset: string): string {
  // Clients end the text with a NUL or send an empty message as a lone NUL.
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const body = bytes.subarray(0, end);
  return fromCrlf(readsAsUtf8(body, charset) ? Buffer.from(body).toString('utf8') : decodeOem(body, charset));
}

/**
 * A name as the NetBIOS codecs carry it: upper-cased as Samba does, in the OEM code page, one
 * byte per character (latin1), so "josé" becomes "JOSÉ" as CP850 byte 0x90 (netbios-names.ts).
 */
export function wireName(name: string, charset: string): string {
  return netbiosNames(charset).toWire(name);
}

/**
 * A name received in the OEM code page (a session request's names, an SMB originator or
 * destination) as canonical text: decoded, without its NULs and padding, upper-cased as Samba does.
 */
export function decodeOemName(bytes: Uint8Array, charset: string): string {
  return netbiosNames(charset).fromWire(bytes);
}

/** The text as it goes on the wire, and whether a character had to be replaced. */
export function encodeTextForWire(text: string, charset: string): { bytes: Uint8Array; lossy: boolean } {
  return encodeOem(toCrlf(text), charset);
}
