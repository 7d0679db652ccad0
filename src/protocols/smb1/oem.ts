import iconv from 'iconv-lite';

/** Text in the OEM code page (`dos charset`, CP850 by default, as Samba). */
export function decodeOem(bytes: Uint8Array, charset = 'CP850'): string {
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), charset);
}

/**
 * Text to the OEM code page. A character the code page lacks is replaced as Windows' best fit
 * does where it can (its base letter: "ā" → "a", "ﬁ" → "fi"), else by "?"; `lossy` says whether
 * anything was replaced.
 */
export function encodeOem(text: string, charset = 'CP850'): { bytes: Uint8Array; lossy: boolean } {
  const direct = iconv.encode(text, charset);
  if (iconv.decode(direct, charset) === text) return { bytes: new Uint8Array(direct), lossy: false };
  let fitted = '';
  for (const char of text) {
    if (iconv.decode(iconv.encode(char, charset), charset) === char) {
      fitted += char;
      continue;
    }
    const base = char.normalize('NFKD').replace(/\p{M}/gu, '');
    fitted += base !== '' && iconv.decode(iconv.encode(base, charset), charset) === base ? base : '?';
  }
  return { bytes: new Uint8Array(iconv.encode(fitted, charset)), lossy: true };
}

/** Whether every character of `text` has a byte in the code page (encodeOem would not be lossy), cheaply. */
export function fitsOem(text: string, charset = 'CP850'): boolean {
  return iconv.decode(iconv.encode(text, charset), charset) === text;
}

export function oemCharsetKnown(charset: string): boolean {
  // A DOS code page is one byte per character: iconv also knows base64, hex and UTF-16, which are not.
  if (!iconv.encodingExists(charset) || !/^(cp|ibm|windows-?|iso-?8859|koi8|mac)/i.test(charset)) return false;
  return iconv.encode('A', charset).length === 1;
}

/** Line ends for the wire: every LF becomes CRLF (one already there stays single). */
export function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** Line ends from the wire: every CRLF becomes LF; a lone CR is left alone. */
export function fromCrlf(text: string): string {
  return text.replace(/\r\n/g, '\n');
}
