/**
 * NATS subject tokens for NetBIOS names and the realm. A subject is dot-separated tokens where
 * `*` and `>` are wildcards and spaces end it, while a NetBIOS name may hold any character of the
 * OEM code page ("SALES.*", "A B", "É>"): a name goes into a subject only through subjectToken.
 */

/** Characters a token keeps as they are, so that "HOSTA" stays readable in `nats sub` output. */
const READABLE = /^[A-Za-z0-9-]$/;
/** A token subjectToken can make: readable characters and `_XX` escapes (uppercase hex). */
const TOKEN = /^(?:[A-Za-z0-9-]|_[0-9A-F]{2})+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The subject token of a name: ASCII letters, digits and `-` as they are; every other character
 * as `_XX` per byte of its UTF-8 (`_` itself is `_5F`, "É" is `_C3_89`, "*" is `_2A`). Only
 * [A-Za-z0-9_-] comes out; one name, one token (case is kept, so pass the upper-cased name a
 * NetBIOS lookup compares); nameFromToken reverses it.
 * @throws RangeError for '' or a string with a lone surrogate, which no NetBIOS name decodes to
 */
export function subjectToken(name: string): string {
  if (name === '') throw new RangeError('An empty name has no subject token.');
  if (!name.isWellFormed()) throw new RangeError('A name with a lone surrogate has no subject token.');
  let token = '';
  for (const char of name) {
    if (READABLE.test(char)) token += char;
    else for (const byte of Buffer.from(char, 'utf8')) token += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return token;
}

/**
 * The name whose token this is, or null when subjectToken never makes it (lowercase hex, `_41`
 * for "A", bytes that are not UTF-8): a subject from the wire maps back to one name or none.
 */
export function nameFromToken(token: string): string | null {
  if (!TOKEN.test(token)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; ) {
    if (token[i] === '_') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(token.charCodeAt(i));
      i += 1;
    }
  }
  let name: string;
  try {
    name = utf8.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
  // Only the canonical spelling maps back, so two tokens never name one name.
  return subjectToken(name) === token ? name : null;
}

/** The `hub realm` rule, declared once with the setting. */
export { realmProblem } from '../config/hub-settings.js';
