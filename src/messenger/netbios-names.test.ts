/**
 * The NetBIOS name mapping (netbios-names.ts) against Samba's rule, per code page. The rule's
 * reference is test/fixtures/names/samba-upper.json: for every character of each code page, the
 * bytes Samba's nmblookup put on the wire (test/interop/names-codepages.test.ts records it again
 * from the installed Samba and compares it live).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { AliasTable } from './aliases.js';
import { aliasProblem, normalizeAlias } from './names.js';
import { MAX_SCOPE_LENGTH, foldNetbiosName, netbiosNames, sambaUpperCodePoint, scopeProblem } from './netbios-names.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../../../test/fixtures/names/samba-upper.json', import.meta.url), 'utf8')) as {
  codePages: Record<string, Record<string, string | null>>;
};
const CODE_PAGES = ['CP437', 'CP850', 'CP852', 'CP866', 'CP1252'] as const;

const hex = (wire: string) => Buffer.from(wire, 'latin1').toString('hex');
const oem = (text: string, charset: string) => Buffer.from(iconv.encode(text, charset)).toString('latin1');

/**
 * Samba's rule for a whole name, from the fixture: each character upper-cased and pushed to the
 * code page as nmblookup does it (the rule is per code point). Where Samba loses the name (null: the
 * capital is not in the code page) netsend keeps the letter: that byte. Undefined when a character
 * is not in the fixture.
 */
function sambaRule(name: string, charset: string): string | undefined {
  const table = FIXTURE.codePages[charset]!;
  let wire = '';
  for (const char of name) {
    if (!(char in table)) return undefined;
    wire += table[char] ?? Buffer.from(iconv.encode(char, charset)).toString('hex');
  }
  return wire;
}

describe('the name mapping, by example', () => {
  test('each code page upper-cases its letters as Samba does, to the bytes Samba sends', () => {
    const cases: Array<[string, string, string, string]> = [
      // charset, typed, canonical, wire bytes
      ['CP850', 'óscar', 'ÓSCAR', 'e053434152'],
      ['CP850', 'Ángel', 'ÁNGEL', 'b54e47454c'],
      ['CP850', 'õnix', 'ÕNIX', 'e54e4958'],
      ['CP850', 'josé', 'JOSÉ', '4a4f5390'],
      ['CP437', 'éclair', 'ÉCLAIR', '90434c414952'],
      ['CP437', 'çöñ', 'ÇÖÑ', '8099a5'],
      ['CP437', 'ωmega', 'ΩMEGA', 'ea4d454741'], // ω is not in CP437, its capital is
      ['CP852', 'łódź', 'ŁÓDŹ', '9de0448d'],
      ['CP852', 'śląsk', 'ŚLĄSK', '974ca4534b'],
      ['CP866', 'иван', 'ИВАН', '8882808d'],
      ['CP866', 'ёлка', 'ЁЛКА', 'f08b8a80'],
      ['CP1252', 'ÿvonne', 'ŸVONNE', '9f564f4e4e45'],
      ['CP1252', 'œuvre', 'ŒUVRE', '8c55565245'],
      ['CP1252', 'šárka', 'ŠÁRKA', '8ac1524b41'],
    ];
    for (const [charset, typed, canonical, wire] of cases) {
      const names = netbiosNames(charset);
      assert.equal(names.upper(typed), canonical, `${charset} ${typed}`);
      assert.equal(hex(names.toWire(typed)), wire, `${charset} ${typed}`);
      assert.equal(sambaRule(typed, charset), wire, `${charset} ${typed}: the fixture agrees`);
      assert.equal(names.fromWire(names.toWire(typed)), canonical, 'and back');
    }
  });

  test("what Samba's table keeps: ß (no one-letter capital), µ and ı (its table predates Unicode's Μ and I)", () => {
    for (const charset of CODE_PAGES) assert.equal(netbiosNames(charset).upper('straße'), 'STRAßE', charset);
    assert.equal(hex(netbiosNames('CP850').toWire('µnit')), 'e64e4954');
    assert.equal(hex(netbiosNames('CP850').toWire('ıx')), 'd558');
    assert.equal(hex(netbiosNames('CP1252').toWire('µ')), 'b5');
    assert.equal(sambaUpperCodePoint('ß'), 'ß');
    assert.equal(sambaUpperCodePoint('ﬁ'), 'ﬁ');
    assert.equal(sambaUpperCodePoint('ǆ'), 'Ǆ');
  });

  test('a letter whose capital the code page lacks stays as it is (Samba would lose the whole name)', () => {
    assert.equal(netbiosNames('CP850').upper('ÿves'), 'ÿVES', 'CP850 has no Ÿ');
    assert.equal(hex(netbiosNames('CP850').toWire('ÿves')), '98564553');
    assert.equal(netbiosNames('CP437').upper('àla'), 'àLA', 'CP437 has no À');
    assert.equal(FIXTURE.codePages.CP850!['ÿ'], null, 'the fixture records that Samba fails there');
  });

  test('a received name in any case is read as the same name: CP850 Ó (0xE0) is not Latin-1 à', () => {
    const cp850 = netbiosNames('CP850');
    assert.equal(cp850.wireUpper('\xa2SCAR'), '\xe0SCAR', 'ó (0xA2) becomes Ó (0xE0)');
    assert.equal(cp850.wireUpper('\xe0SCAR'), '\xe0SCAR', 'Ó stays: upper-casing the byte as Latin-1 à made it 0xC0');
    assert.equal(cp850.wireUpper('\xb5NGEL'), '\xb5NGEL', 'Á (0xB5) stays: as Latin-1 µ it became Greek Μ');
    assert.equal(cp850.wireUpper('\xe5NIX'), '\xe5NIX', 'Õ (0xE5) stays');
    assert.ok(cp850.sameWire('\xa2scar', '\xe0SCAR'));
    assert.equal(netbiosNames('CP1252').wireUpper('\xff'), '\x9f', 'ÿ becomes Ÿ');
    assert.equal(netbiosNames('CP1252').wireUpper('\x81'), '\x81', 'a byte the code page leaves undefined stays');
    assert.equal(netbiosNames('CP866').wireUpper(oem('ёлка', 'CP866')), oem('ЁЛКА', 'CP866'));
    assert.equal(cp850.fromWire(Buffer.from('e053434152202000', 'hex')), 'ÓSCAR', 'padding and NULs removed');
  });

  test('a double-byte code page (CP932) maps whole characters and leaves bytes that are not text alone', () => {
    const cp932 = netbiosNames('CP932');
    assert.equal(cp932.upper('ｘyz日本'), 'ＸYZ日本', 'fullwidth ｘ has its capital in CP932');
    const wire = cp932.toWire('abc日本');
    assert.equal(cp932.wireUpper(oem('abc日本', 'CP932')), wire);
    assert.equal(cp932.wireUpper('\x81'), '\x81', 'a lone lead byte');
  });

  test('names from text sources compare as Samba compares them (strequal), whatever the code page', () => {
    assert.equal(foldNetbiosName('straße'), 'STRAßE');
    assert.equal(foldNetbiosName('ÿves'), 'ŸVES');
    assert.equal(foldNetbiosName('µnit'), 'µNIT');
    assert.notEqual(foldNetbiosName('straße'), foldNetbiosName('strasse'));
  });
});

describe("every character of a code page, as Samba's nmblookup sent it (the fixture)", () => {
  for (const [charset, table] of Object.entries(FIXTURE.codePages)) {
    test(`${charset}: netsend's wire bytes are Samba's, or the letter itself where Samba lost the name`, () => {
      const names = netbiosNames(charset);
      for (const [char, samba] of Object.entries(table)) {
        const own = Buffer.from(iconv.encode(char, charset)).toString('hex');
        assert.equal(hex(names.toWire(`x${char}`)), `58${samba ?? own}`, `${charset} ${char} (U+${char.codePointAt(0)!.toString(16)})`);
        if (names.holds(char)) assert.equal(hex(names.wireUpper(oem(char, charset))), samba ?? own, `${charset} received ${char}`);
      }
    });
  }
});

/** Names made of a code page's characters, and of the lower-case letters of its capitals. */
const nameIn = (charset: string) => fc.string({ minLength: 1, maxLength: 15, unit: fc.constantFrom(...Object.keys(FIXTURE.codePages[charset]!), ' ', '.') });
const lower = (name: string) => [...name].map((c) => c.toLowerCase()).join('');

describe('properties, per code page', () => {
  for (const charset of CODE_PAGES) {
    test(`${charset}: every alias aliasProblem accepts goes on the wire as Samba's rule makes it, in lower, upper and mixed case`, () => {
      const names = netbiosNames(charset);
      let accepted = 0;
      fc.assert(
        fc.property(nameIn(charset), fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }), (name, flips) => {
          if (aliasProblem(name, charset) !== null) return;
          accepted++;
          const canonical = normalizeAlias(name, 'name', charset);
          const wire = names.toWire(name);
          const mixed = [...name].map((c, i) => (flips[i] ? names.upper(c) : c.toLowerCase())).join('');
          for (const form of [name, lower(name), names.upper(name), mixed]) {
            const expected = sambaRule(form, charset);
            if (expected === undefined) continue; // a lower-case letter outside the fixture (a capital with no lower case in it)
            assert.equal(aliasProblem(form, charset), null, `${JSON.stringify(form)} is accepted too`);
            assert.equal(hex(names.toWire(form)), expected, `${JSON.stringify(form)}: Samba's bytes`);
            assert.equal(names.toWire(form), wire, 'every case form is the same name on the wire');
            assert.equal(normalizeAlias(form, 'name', charset), canonical, 'and the same alias');
            if (iconv.decode(iconv.encode(form, charset), charset) === form) {
              assert.equal(names.wireUpper(oem(form, charset)), wire, 'received in this case, it is found');
            }
          }
          assert.equal(names.wireUpper(wire), wire, 'the wire form is canonical');
          assert.equal(names.fromWire(wire), canonical, 'round trip: wire → text');
          assert.equal(names.toWire(names.fromWire(wire)), wire, 'round trip: text → wire');
          assert.equal(names.upper(canonical), canonical, 'idempotent');
        }),
        { numRuns: 400 },
      );
      assert.ok(accepted > 100, `only ${accepted} accepted names`);
    });

    test(`${charset}: a received name (any bytes) maps to one canonical form, which a second pass keeps`, () => {
      const names = netbiosNames(charset);
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 15 }), (bytes) => {
          const wire = Buffer.from(bytes).toString('latin1');
          const canonical = names.wireUpper(wire);
          assert.equal(canonical.length, wire.length, 'one byte per byte');
          assert.equal(names.wireUpper(canonical), canonical);
          // Bytes that read as text: the same as upper-casing that text and putting it back.
          const text = iconv.decode(Buffer.from(bytes), charset);
          if (oem(text, charset) === wire) assert.equal(canonical, names.toWire(text));
        }),
        { numRuns: 500 },
      );
    });

    test(`${charset}: aliases stored before this mapping (JavaScript upper case) are kept as stored and found`, async () => {
      /** The rule before: JavaScript's full upper case ('ß' → 'SS'), else per character where the code page lacked a capital. */
      const before = (name: string) => {
        const upper = name.toUpperCase();
        const fits = (text: string) => iconv.decode(iconv.encode(text, charset), charset) === text;
        return fits(upper) ? upper : [...name].map((c) => (fits(c.toUpperCase()) ? c.toUpperCase() : c)).join('');
      };
      const stored = new Set<string>();
      fc.assert(
        fc.property(nameIn(charset), (name) => {
          const old = before(name);
          if (old.length > 15 || aliasProblem(old, charset) !== null || old.trim() !== old) return;
          assert.equal(normalizeAlias(old, 'name', charset), old, `${JSON.stringify(old)} (stored for ${JSON.stringify(name)}) is canonical still`);
          if (stored.size < 40) stored.add(old);
        }),
        { numRuns: 300 },
      );
      const table = new AliasTable({
        computerName: 'PC1',
        userNames: [],
        addedAliases: [...stored],
        maxAddedAliases: 100,
        store: { saveAlias: async () => {}, deleteAlias: async () => {} },
        charset,
      });
      const listed = new Set(table.list().filter((a) => a.kind === 'added').map((a) => a.name));
      for (const name of stored) {
        assert.ok(listed.has(name), `${name} is listed as stored`);
        assert.equal(table.find(name)?.name, name);
        assert.equal(table.find(lower(name))?.name, name, `${name} is found in lower case`);
      }
    });
  }
});

describe('netbios scope', () => {
  test('scopeProblem takes dot-separated labels of 1-63 printable ASCII characters, 220 in all (RFC 1002 §4.1)', () => {
    for (const good of ['', 'other', 'OTHER', 'corp.example', 'a', 'x'.repeat(63), `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(28)}`]) {
      assert.equal(scopeProblem(good), null, good);
    }
    assert.equal(MAX_SCOPE_LENGTH, 220);
    const cases: Array<[string, RegExp]> = [
      ['.other', /labels of 1-63/],
      ['other.', /labels of 1-63/],
      ['a..b', /labels of 1-63/],
      ['x'.repeat(64), /labels of 1-63/],
      [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(29)}`, /longer than 220/],
      ['my scope', /printable ASCII/],
      ['scopé', /printable ASCII/],
      ['a\tb', /printable ASCII/],
    ];
    for (const [bad, words] of cases) assert.match(scopeProblem(bad) ?? 'accepted', words, JSON.stringify(bad));
  });

  test('a scope goes on the wire upper-cased, as Samba keeps "netbios scope", and compares in any case', () => {
    const names = netbiosNames('CP850');
    assert.equal(names.toWire('other.corp'), 'OTHER.CORP');
    assert.ok(names.sameWire('other', 'OTHER'));
    assert.ok(!names.sameWire('other', ''));
  });
});
