import { decodeOem, fitsOem } from '../protocols/smb1/index.js';

// Which reading of a received legacy text to keep: the OEM code page (`dos charset`), as Samba's
// smbd always does, or UTF-8, for what smbclient sends when the code page cannot carry the text.

/**
 * Whether a received message text is to be read as UTF-8 rather than in the OEM code page.
 *
 * smbd converts every received text from the `dos charset` (Samba's source3/smbd/message.c), so
 * that is the reading by default. smbclient converts what it sends to the `dos charset` 127 bytes
 * of its UTF-8 input at a time (source3/libsmb/climessage.c) and sends a block it cannot convert
 * as raw UTF-8: one with a character the code page lacks ("€" in CP850), or one that cuts a
 * multi-byte character in two (and then the next block too). A text of up to 127 bytes is one block.
 *
 * In code pages other than CP850 ordinary words are often valid UTF-8 by chance (CP852 "ďábel" is
 * D4 A0 62 65 6C, UTF-8 "Ԡbel"; CP866 "сам" is E1 A0 AC, UTF-8 "ာ"), so validity proves nothing.
 * The text is read as UTF-8 only when all of these hold; a tie goes to the code page:
 *
 *  1. the bytes are valid UTF-8 with at least one multi-byte sequence;
 *  2. the UTF-8 reading has a character the code page cannot represent: else smbclient would have
 *     sent code-page bytes (a text it sent raw only because a block cut a character stays in the
 *     code page, as smbd shows it);
 *  3. the UTF-8 reading has no `oddity`: no control, unassigned or private-use character, no
 *     combining mark without a letter before it, no word mixing two scripts or with a small letter
 *     followed by a capital where one of the two is not ASCII;
 *  4. the code-page reading has one, or looks like UTF-8 read in a DOS code page (mojibake: "Ã©t",
 *     "caf├®s", "5Ôé¼", "тВм"): a non-ASCII symbol or box drawing next to a letter and wedged in
 *     a word, or among the three or four characters one UTF-8 character makes (see SYMBOL).
 *
 * Condition 4 is what keeps real text in the code page: a word of the code page's languages is
 * letters of one script in natural case, which has no oddity (legacy-text.test.ts holds words of
 * each code page whose bytes are valid UTF-8, found in the dictionaries).
 *
 * One case skips 2 to 4: bytes the code page does not define (CP1252 81, 8D, 8F, 90, 9D) are no
 * text of it, so valid UTF-8 holding one ("ō" is C5 8D) is read as UTF-8. (smbd's conversion
 * fails on them and it delivers an empty text, its length left at 0: a Samba bug, no text to keep.)
 */
export function readsAsUtf8(bytes: Uint8Array, charset: string): boolean {
  if (isAscii(bytes)) return false; // 1: ASCII reads the same either way (most texts: no decoding needed to know)
  const utf8 = strictUtf8(bytes);
  if (utf8 === undefined) return false; // 1
  const oem = decodeOem(bytes, charset);
  if (oem.includes('\ufffd')) return true; // a byte the code page does not define: no text of it
  if (fitsOem(utf8, charset)) return false; // 2
  return oddity(utf8, 'utf8') === undefined && oddity(oem, 'oem') !== undefined; // 3 and 4
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The first thing in `text` that real text does not have, in words, or undefined. `reading` says
 * which reading it is: only the code-page one is judged on symbols stuck to letters, which is what
 * mojibake looks like there, and which real UTF-8 text has ("Acme™", "ok👍").
 */
export function oddity(text: string, reading: 'utf8' | 'oem'): string | undefined {
  const chars = Array.from(text);
  // a few thousand non-ASCII characters are evidence enough, and bound the work a hostile text costs
  let nonAscii = 0;
  let wordScript: string | undefined; // script of the current word's letters so far
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const before = chars[i - 1] ?? ' ';
    if (c < '\x80') {
      // ASCII, most of any text, the quick way: controls are odd, letters are Latin, the rest ends a word
      if (c < ' ' ? c !== '\t' && c !== '\r' && c !== '\n' : c === '\x7f') return `control or replacement character ${codeName(c)}`;
      if (!ASCII_LETTER.test(c)) {
        wordScript = undefined;
        continue;
      }
      const script = scriptGroup(c);
      if (wordScript !== undefined && script !== wordScript) return `letters of two scripts in one word (${before}${c})`;
      wordScript = script;
      if (before > '\x7f' && /\p{Ll}/u.test(before) && /\p{Lu}/u.test(c)) return `a capital after a small letter (${before}${c})`;
      continue;
    }
    if (++nonAscii > ODDITY_SCAN_CHARS) break;
    const after = chars[i + 1] ?? ' ';
    const name = codeName(c);
    if (/[\p{Cc}\ufffd]/u.test(c)) return `control or replacement character ${name}`;
    if (/[\p{Cn}\p{Co}]/u.test(c)) return `unassigned or private-use ${name}`;
    if (/\p{M}/u.test(c) && !/[\p{L}\p{M}]/u.test(before) && !(EMOJI_MARK.test(c) && /\S/u.test(before))) return `combining mark ${name} without a letter before it`;
    // CP850 and CP852 have the soft hyphen where UTF-8 has the lead byte of every emoji ("👍" reads "\u00adƒæì")
    if (c === '\u00ad' && !LETTER.test(before)) return 'soft hyphen without a letter before it';
    if (reading === 'oem' && SYMBOL.test(c) && (LETTER.test(before) || LETTER.test(after))) {
      if (WORDLY.test(before) && WORDLY.test(after)) return `symbol ${c} inside a word`;
      const run = nonAsciiRun(chars, i);
      if ((run === 3 || run === 4) && !BOX.test(c)) return `symbol ${c} in ${run} non-ASCII characters in a row`;
    }
    if (!/[\p{L}\p{M}]/u.test(c)) {
      wordScript = undefined; // a word is a run of letters and marks
      continue;
    }
    const script = scriptGroup(c); // marks too: a Myanmar vowel sign after a Latin letter is no text
    if (script !== undefined && wordScript !== undefined && script !== wordScript) return `letters of two scripts in one word (${before}${c})`;
    wordScript = script ?? wordScript;
    if (/\p{Ll}/u.test(before) && /\p{Lu}/u.test(c) && (before > '\x7f' || c > '\x7f')) return `a capital after a small letter (${before}${c})`;
  }
  return undefined;
}

const LETTER = /\p{L}/u;
/** How many non-ASCII characters of a text `oddity` judges: a received text can be 32,768 characters, and this runs before the front door. */
export const ODDITY_SCAN_CHARS = 4096;
const ASCII_LETTER = /[A-Za-z]/;
const codeName = (c: string) => `U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;

/** How many non-ASCII characters in a row `chars[i]` stands in. */
function nonAsciiRun(chars: readonly string[], i: number): number {
  let start = i;
  let end = i;
  while (start > 0 && (chars[start - 1] as string) > '\x7f') start--;
  while (end + 1 < chars.length && (chars[end + 1] as string) > '\x7f') end++;
  return end - start + 1;
}

/**
 * What UTF-8's lead and continuation bytes look like in a DOS code page ("caf├®s", "5Ôé¼"): a
 * non-ASCII symbol (box drawing, block elements, fractions and superscripts included) next to a
 * letter, either wedged in a word (a letter or symbol on both sides) or, box drawing aside, among
 * three or four non-ASCII characters in a row: one character of three or four UTF-8 bytes, such
 * as "€" or an emoji. Real text has a symbol beside a letter at a word's edge ("CAFÉ® ", "Ø½ Zoll"
 * in CP1252, both valid UTF-8), which does not count.
 */
const SYMBOL = /(?![\0-\x7f])[\p{S}\p{No}]/u;
const BOX = /[\u2500-\u259f]/u;
const WORDLY = /[\p{L}\p{S}\p{No}]/u;
/** Variation selectors and the keycap mark, which follow emoji, digits and symbols, not letters. */
const EMOJI_MARK = /[\ufe00-\ufe0f\u20e3]/u;

/**
 * The scripts `\p{Script=…}` knows (ISO 15924 codes; those an older engine lacks are skipped),
 * the common ones first. Han, kana, bopomofo and hangul are one group: Japanese mixes them in a word.
 */
const SCRIPTS = (
  'Latn Cyrl Grek Hani Hira Kana Bopo Hang Arab Hebr Armn Geor Deva Beng Guru Gujr Orya Taml Telu Knda Mlym Sinh ' +
  'Thai Laoo Tibt Mymr Khmr Ethi Cher Cans Mong Thaa Syrc Nkoo Tfng Yiii Vaii Bamu Adlm Aghb Ahom Armi Avst Bali ' +
  'Bass Batk Berf Bhks Brah Brai Bugi Buhd Cakm Cari Cham Chrs Copt Cpmn Cprt Diak Dogr Dsrt Dupl Egyp Elba Elym ' +
  'Gara Glag Gong Gonm Goth Gran Gukh Hano Hatr Hluw Hmng Hmnp Hung Ital Java Kali Kawi Khar Khoj Kits Krai Kthi ' +
  'Lana Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Modi Mroo Mtei Mult Nagm ' +
  'Nand Narb Nbat Newa Nshu Ogam Olck Onao Orkh Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng ' +
  'Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sidt Sind Sogd Sogo Sora Soyo Sund Sunu Sylo Tagb Takr Tale Talu ' +
  'Tang Tavt Tayo Tglg Tirh Tnsa Todr Tols Toto Tutg Ugar Vith Wara Wcho Xpeo Xsux Yezi Zanb'
)
  .split(' ')
  .flatMap((code) => {
    try {
      return [{ group: /^(Hani|Hira|Kana|Bopo|Hang)$/.test(code) ? 'Hani' : code, pattern: new RegExp(`\\p{Script=${code}}`, 'u') }];
    } catch {
      return [];
    }
  });

/** Scripts already looked up, by code point: a text repeats its few letters, and each lookup tries many patterns. */
const scriptOf = new Map<number, string | undefined>();

/** The script (group) of a letter or mark; undefined for Common and Inherited ones, which go with any. */
function scriptGroup(letter: string): string | undefined {
  const code = letter.codePointAt(0) as number;
  if (scriptOf.has(code)) return scriptOf.get(code);
  const group = SCRIPTS.find(({ pattern }) => pattern.test(letter))?.group;
  // bounded: a hostile text can name many code points, and the lookups stay correct without the memory
  if (scriptOf.size < 65_536) scriptOf.set(code, group);
  return group;
}
