import iconv from 'iconv-lite';
import { decodeOem, encodeOem } from '../protocols/smb1/oem.js';

/**
 * NetBIOS names and the OEM code page (`dos charset`): the one mapping every part of netsend uses
 * to upper-case a name, put it on the wire and read it back, so that a name typed, stored, sent,
 * asked for and defended is the same name everywhere, and the same name Samba sees.
 *
 * Samba's rule, followed here (nmbd's `upcase_name`, nmblookup's `make_nmb_name`, the session
 * request's `name_mangle`): take the name as Unicode (a received name is pulled from the dos
 * charset first), upper-case it one code point at a time with Samba's own simple upper-case table
 * (`toupper_m`), push it back to the dos charset, and compare the bytes. So 'ß' stays 'ß' (Unicode
 * has no one-character capital for it), 'ó' becomes 'Ó' (CP850 byte 0xE0), and 'Ó' sent by anyone
 * stays 0xE0 — not what upper-casing the byte as Latin-1 would make of it.
 *
 * Where the capital of a letter is not in the code page (CP850's 'ÿ', CP437's 'á'), Samba's push
 * fails and the whole name is lost (nmbd then holds an empty name, nmblookup asks for one); netsend
 * keeps that letter as it is instead, so such a name still works between netsend hosts.
 */

/**
 * Characters Samba's upper-case table leaves as they are although Unicode gives them a capital
 * of one code point: its table predates these mappings. Of all the characters of the code pages
 * netsend supports (and their capitals), only these differ from the simple mappings of the
 * Unicode data Node carries; the rest of the table agrees with them.
 */
const SAMBA_KEEPS = new Set([
  '\u00b5', // µ micro sign (Unicode: Greek capital mu)
  '\u0131', // ı dotless i (Unicode: I)
  '\u017f', // ſ long s (Unicode: S)
  '\u0219', // ș s with comma below (Unicode: Ș)
  '\u021b', // ț t with comma below (Unicode: Ț)
  '\u0251', '\u0261', // ɑ ɡ Latin alpha and script g, in CP936 (Unicode: Ɑ, Ɡ)
  '\u0345', // combining ypogegrammeni (Unicode: Ι)
  '\u03d0', '\u03d1', '\u03d5', '\u03d6', '\u03f0', '\u03f1', '\u03f5', // Greek symbol forms ϐ ϑ ϕ ϖ ϰ ϱ ϵ
  '\u1c80', '\u1c81', '\u1c82', '\u1c83', '\u1c84', '\u1c85', '\u1c86', // Cyrillic small letter variants
  '\u1e9b', // ẛ long s with dot above
  '\u1fbe', // ι Greek prosgegrammeni
]);

/**
 * Samba's upper case of one code point: Unicode's simple mapping when it is one code point, as
 * Samba's table holds it; the character itself when there is none ('ß', 'ŉ', 'ﬁ' upper-case to
 * several characters), outside the Basic Multilingual Plane (Samba's table covers UCS-2), and for
 * the characters in SAMBA_KEEPS.
 */
export function sambaUpperCodePoint(char: string): string {
  if (char.length !== 1 || SAMBA_KEEPS.has(char)) return char;
  const upper = char.toUpperCase();
  return upper.length === 1 ? upper : char;
}

/** Received names `fromWire` remembers at most, per code page. */
const MAX_REMEMBERED_NAMES = 256;

/** What names are in one OEM code page. Get one with `netbiosNames(charset)`. */
export class NetbiosNameMapping {
  readonly charset: string;
  /** Single-byte code pages: the upper-case byte of each byte (the whole of `upcase_name`). */
  readonly #byteUpper: Uint8Array | undefined;
  readonly #held = new Map<string, boolean>();
  /** Received names (latin1) already made canonical by `fromWire`. */
  readonly #received = new Map<string, string>();

  constructor(charset: string) {
    this.charset = charset;
    this.#byteUpper = singleByte(charset) ? this.#byteTable() : undefined;
  }

  /**
   * The canonical form of a name given as text: each code point upper-cased as Samba does, when
   * the code page holds the capital; otherwise left as it is. Idempotent.
   */
  upper(name: string): string {
    let result = '';
    for (const char of name) {
      const upper = sambaUpperCodePoint(char);
      result += upper !== char && this.holds(upper) ? upper : char;
    }
    return result;
  }

  /**
   * The name as the NetBIOS codecs carry it: canonical, in the code page, one character per byte
   * (latin1). A character the code page lacks becomes its best fit or '?', as `encodeOem` does
   * (names that are aliases never hold one: `aliasProblem` refuses them).
   */
  toWire(name: string): string {
    return latin1(encodeOem(this.upper(name), this.charset).bytes);
  }

  /**
   * A received name (OEM bytes as latin1, as the codecs give it) in its canonical wire form: what
   * nmbd compares after `upcase_name`. Bytes that are not text in the code page stay as they are.
   */
  wireUpper(wire: string): string {
    const table = this.#byteUpper;
    if (table !== undefined) {
      let result = '';
      for (let i = 0; i < wire.length; i++) result += String.fromCharCode(table[wire.charCodeAt(i) & 0xff] as number);
      return result;
    }
    const bytes = Buffer.from(wire, 'latin1');
    const text = decodeOem(bytes, this.charset);
    // Bytes that do not read as text in this code page are compared as they came.
    if (!Buffer.from(encodeOem(text, this.charset).bytes).equals(bytes)) return wire;
    return latin1(encodeOem(this.upper(text), this.charset).bytes);
  }

  /** Whether two names on the wire are the same name. */
  sameWire(a: string, b: string): boolean {
    return this.wireUpper(a) === this.wireUpper(b);
  }

  /**
   * A received name as text, canonical: decoded from the code page, the NULs and space padding
   * that end it removed, upper-cased as `upper` does. `name` is bytes, or bytes as latin1.
   */
  fromWire(name: Uint8Array | string): string {
    const wire = typeof name === 'string' ? name : latin1(name);
    let text = this.#received.get(wire);
    if (text === undefined) {
      text = this.upper(decodeOem(Buffer.from(wire, 'latin1'), this.charset).replace(/\0+$/, '').trim());
      // the same few names arrive again and again; any peer can send new ones, so the memo is bounded
      if (this.#received.size >= MAX_REMEMBERED_NAMES) this.#received.clear();
      this.#received.set(wire, text);
    }
    return text;
  }

  /** Whether the code page has `char` (one code point). */
  holds(char: string): boolean {
    let held = this.#held.get(char);
    if (held === undefined) {
      held = iconv.decode(iconv.encode(char, this.charset), this.charset) === char;
      this.#held.set(char, held);
    }
    return held;
  }

  #byteTable(): Uint8Array {
    const table = new Uint8Array(256);
    for (let byte = 0; byte < 256; byte++) {
      table[byte] = byte;
      const char = decodeOem(Uint8Array.of(byte), this.charset);
      if (char.length !== 1 || char === '\ufffd') continue; // a byte the code page leaves undefined
      const upper = sambaUpperCodePoint(char);
      if (upper === char || !this.holds(upper)) continue;
      table[byte] = iconv.encode(upper, this.charset)[0] as number;
    }
    return table;
  }
}

const mappings = new Map<string, NetbiosNameMapping>();

/** The name mapping of `charset` (the `dos charset`), made once per code page. */
export function netbiosNames(charset = 'CP850'): NetbiosNameMapping {
  const key = charset.toLowerCase();
  let mapping = mappings.get(key);
  if (mapping === undefined) {
    mapping = new NetbiosNameMapping(charset);
    mappings.set(key, mapping);
  }
  return mapping;
}

/**
 * Two names given as text compared as Samba's `strequal` compares them: each code point
 * upper-cased with Samba's table, whatever the code page. For lookups between text sources (the
 * lmhosts file, the name cache); names on the wire compare through a mapping's `wireUpper`.
 */
export function foldNetbiosName(name: string): string {
  let result = '';
  for (const char of name) result += sambaUpperCodePoint(char);
  return result;
}

/**
 * RFC 1002 §4.1: a name with its scope is at most 255 bytes: the 32-letter label with its length
 * byte, each scope label with its length byte, the final 0. That leaves 220 for the dotted scope.
 */
export const MAX_SCOPE_LENGTH = 255 - 34 - 1;

/**
 * Why `scope` cannot be a NetBIOS scope (`netbios scope`), or null. Like a DNS name (RFC 1001
 * §5.2, RFC 1002 §4.1): labels of 1-63 characters separated by dots, 220 in all; netsend takes
 * printable ASCII without spaces, which is one byte in every code page. '' is the default scope.
 */
export function scopeProblem(scope: string): string | null {
  if (scope === '') return null;
  if (!/^[\x21-\x7e]+$/.test(scope)) return 'may hold only printable ASCII characters, no spaces';
  if (scope.length > MAX_SCOPE_LENGTH) return `is longer than ${MAX_SCOPE_LENGTH} characters (RFC 1002 §4.1)`;
  if (scope.split('.').some((label) => label.length === 0 || label.length > 63)) return 'must be dot-separated labels of 1-63 characters';
  return null;
}

function singleByte(charset: string): boolean {
  // A double-byte code page (CP932, CP936…) writes some characters as two bytes.
  return iconv.encode('\u4e2d\u00e9\u0416\u03b1\uac00', charset).length === 5;
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
