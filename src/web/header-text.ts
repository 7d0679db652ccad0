/**
 * Text in an HTTP header, as ntfy reads it. Node hands header values over as Latin-1 (one
 * character per byte); curl and most clients send UTF-8 bytes, and mail-minded ones RFC 2047
 * encoded-words (`=?UTF-8?B?R3LDvMOfZQ==?=`). Both are decoded; anything else is kept as it came.
 */

/** One encoded-word (RFC 2047 §2): charset, encoding (B or Q), encoded text. */
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
/** Charsets an encoded-word is decoded from; others are left as written. */
const CHARSETS: Readonly<Record<string, BufferEncoding>> = { 'utf-8': 'utf8', utf8: 'utf8', 'us-ascii': 'latin1', 'iso-8859-1': 'latin1', latin1: 'latin1' };

export function headerText(value: string): string {
  return decodeEncodedWords(utf8FromLatin1(value));
}

/** The header's bytes read as UTF-8 when they are UTF-8; Latin-1 text that is not stays as it is. */
function utf8FromLatin1(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  const bytes = Buffer.from(value, 'latin1');
  const text = bytes.toString('utf8');
  // a byte sequence that is not UTF-8 decodes to U+FFFD: then it was Latin-1 after all
  return text.includes('\uFFFD') ? value : text;
}

function decodeEncodedWords(value: string): string {
  // whitespace between two adjacent encoded-words is not part of the text (RFC 2047 §6.2)
  const joined = value.replace(/(\?=)\s+(=\?)/g, '$1$2');
  return joined.replace(ENCODED_WORD, (word, charset: string, encoding: string, text: string) => {
    const decodeAs = CHARSETS[charset.toLowerCase()];
    if (decodeAs === undefined) return word;
    const bytes =
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
    return bytes.toString(decodeAs);
  });
}
