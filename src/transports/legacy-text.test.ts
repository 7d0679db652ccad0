/**
 * How received legacy text is read: in the OEM code page (`dos charset`), as Samba's smbd reads
 * it, and as UTF-8 only for what smbclient sends raw when the code page cannot carry a text.
 * Each supported code page has a corpus of its languages, and words of those languages whose
 * code-page bytes happen to be valid UTF-8 (picked from the words found by running each language's
 * hunspell dictionary, all word forms, through the code page), which must still read as themselves.
 * Over 300 lines: the corpus table (CORPUS, 130 lines of data) stays beside the tests that read
 * it; a module of its own would ship in the package (only *.test.* is left out).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeOem, encodeOem } from '../protocols/smb1/index.js';
import { decodeReceivedText, encodeTextForWire } from './legacy-text.js';
import { oddity, readsAsUtf8 } from './legacy-text-decode.js';

const validUtf8 = (bytes: Uint8Array) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/** The bytes of `text` in `charset` as a client sends them (CRLF), failing if the code page lacks a character. */
function wire(text: string, charset: string): Uint8Array {
  const { bytes, lossy } = encodeTextForWire(text, charset);
  assert.equal(lossy, false, `${charset} cannot carry ${JSON.stringify(text)}`);
  return bytes;
}

/**
 * What smbd's message command gets (source3/smbd/message.c): the bytes converted from the dos
 * charset to UTF-8, CRLF to LF; nothing when a byte is one the code page does not define (the
 * conversion fails and smbd writes its length, left at 0: test/interop/codepages.test.ts).
 */
function smbdShows(bytes: Uint8Array, charset: string): string {
  const oem = decodeOem(bytes, charset);
  return oem.includes('\ufffd') ? '' : oem.replace(/\r\n/g, '\n');
}

/**
 * What smbclient -M sends for `text` (source3/libsmb/climessage.c): 127 bytes of the UTF-8 input
 * at a time, each converted to the dos charset, or sent as it is when that conversion fails.
 */
function smbclientSends(text: string, charset: string): Uint8Array {
  const input = Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
  const blocks: Uint8Array[] = [];
  for (let at = 0; at < input.length; at += 127) {
    const block = input.subarray(at, at + 127);
    const converted = validUtf8(block) ? encodeOem(block.toString('utf8'), charset) : { lossy: true, bytes: block };
    blocks.push(converted.lossy ? block : converted.bytes);
  }
  return Buffer.concat(blocks);
}

interface Corpus {
  languages: string;
  /** Ordinary text of the code page's languages: words, short phrases and long sentences. */
  texts: string[];
  /** Words whose bytes in the code page are valid UTF-8 (checked below), from the dictionaries. */
  traps: string[];
}

const CORPUS: Record<string, Corpus> = {
  CP437: {
    languages: 'English, German, French, Spanish, Italian, Dutch, Swedish (and its box drawing)',
    texts: [
      'hello',
      'Grüße',
      'Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.',
      'Falsches Üben von Xylophonmusik quält jeden größeren Zwerg.',
      'Le coeur déçu mais l\'âme plutôt naïve, Louÿs rêva de crapaüter en canoë au delà des îles.',
      'Voyez le brick géant que j\'examine près du wharf.',
      'El veloz murciélago hindú comía feliz cardillo y kiwi. ¿Qué tal? ¡Olé!',
      'La cigüeña tocaba el saxofón detrás del palenque de paja.',
      'Ma la volpe, col suo balzo, ha raggiunto il quieto Fido. Perché è così? Più tardi.',
      'Pa\'s wijze lynx bezag vroom het fikse aquaduct. Ruïne, café, één.',
      'Flygande bäckasiner söka hwila på mjuka tuvor. Räksmörgås!',
      'Résumé, naïve, façade, Ångström, jalapeño, crème brûlée',
      'Preis: 5 £, 10 ¥, 3 ½ Stunden, 20 °C, ± 2 µm, ß',
      'Meeting um 10:30 Uhr\nim großen Saal,\nbitte pünktlich!',
      // drawings: CP437's lead bytes C2–DF are box drawing, E0–EF Greek and maths, so these are the
      // valid UTF-8 its text has (a tiny frame is "ɻ" and "ȼ" in UTF-8)
      '╔╗\n╚╝',
      '─┐ ═╗ ┌┐ ╘╛',
      'Menu ─┐\n     ╘═ Datei',
      'π ≈ 3,14159; Σ aller Werte ≥ 0; α·r²',
    ],
    traps: ['╔╗', '╚╝', '─┐', '═╗', '┌┐', '╞╡', '╙╜', '█▓', '▄▒'],
  },
  CP850: {
    languages: 'Western European languages',
    texts: [
      'café',
      'Grüße aus Zürich',
      'Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.',
      'Portez ce vieux whisky au juge blond qui fume. À côté, l\'alcôve ovoïde où les bûches se consument.',
      'Dès Noël où un zéphyr haï me vêt de glaçons würmiens, je dîne d\'exquis rôtis au kir à l\'aÿ d\'âge mûr.',
      'El pingüino Wenceslao hizo kilómetros bajo exhaustiva lluvia y frío, añoraba a su querido cachorro.',
      'Luís argüia à Júlia que «brações, fé, chá, óxido, pôr, zângão» eram palavras do português.',
      'À noite, vovô Kowalsky vê o ímã cair no pé do pingüim queixoso e vovó põe açúcar no chá de tâmaras do jabuti feliz.',
      'Høj bly gom vandt fræk sexquiz på wc. Blåbærsyltetøy.',
      'Kæmi ný öxi hér, ykist þjófum nú bæði víl og ádrepa.',
      'Flygande bäckasiner söka hwila på mjuka tuvor.',
      'Ma la volpe, col suo balzo, ha raggiunto il quieto Fido. Perché è così?',
      'Pa\'s wijze lynx bezag vroom het fikse aquaduct. Ruïne, één, coördinatie.',
      'SÃO PAULO, ÉTÉ, ÇA VA, ÑANDÚ, ÅRHUS, ØRESUND',
      'Preis 5 £, ½ Liter, 20 °C, ± 2 µm, © 2024, ® ¹²³ ¾',
      'Besprechung um 10:30\nim großen Saal.\n\nGrüße, Jürgen',
      // stressed Dutch (díé, híér) and capitals whose bytes are valid UTF-8
      'Híér staat het, níét dáár! Díé bedoel ik.',
      'PRECÍÉS, NÍÉMAND WÍÉ ZÍÉN',
    ],
    traps: [
      'DÍÉ', 'HÍÉR', 'NÍÉT', 'WÍÉ', 'ZÍÉN', 'Íémand', 'Íédereen', 'PRECÍÉS', 'NÍÉMAND', 'KÍÉZEN',
      'PARANOÏÉ', 'PARANOÏÉES', 'VOÏÉVODIE', 'COCAÏÉ',
      'TRAÍÑA', 'ALÍÑALA', 'ALÍÑALO', 'CÍÑASE', 'DÍÑALOS', 'ENCARÍÑALA', 'ESCUDRÍÑALO', 'GUÍÑALA', 'RÍÑASE', 'TÍÑANSE',
      'SUÍÇO', 'SUÍÇA',
    ],
  },
  CP852: {
    languages: 'Czech, Polish, Slovak, Hungarian, Croatian, Slovenian, Romanian',
    texts: [
      'ďábel',
      'Příliš žluťoučký kůň úpěl ďábelské ódy.',
      'Ďábel a arciďábel se hádali o paměť, oběť a soutěž; rovněž těžba sněžila.',
      'Naděžda si koupila peněženku, koloběžku a košíček šťávy.',
      'Zażółć gęślą jaźń.',
      'Pchnąć w tę łódź jeża lub ośm skrzyń fig.',
      'Kŕdeľ ďatľov učí koňa žrať kôru.',
      'Veďže sme boli v šťastí, keď sme jedli šúľance.',
      'Árvíztűrő tükörfúrógép.',
      'Egy hűtlen vejét fülöncsípő, dühös mexikói úr Wesselényinél mázol Quitóban.',
      'Gojazni đačić s biciklom drži hmelj i finu vatu u džepu nošnje.',
      'Šerif bo za vajo spet kuhal domače žgance.',
      'Iarăşi am depăşit păşunea; desfăşurarea a fost o gingăşie.',
      'Muzicologă în bej vând whisky şi tequila, preţ fix.',
      'Tovarăş, urăşte măştile din găşti!',
      'ŽLUŤOUČKÝ KŮŇ, ŁÓDŹ, ŐRSÉG, ĐURĐEVAC',
      'Schůzka v 10:30\nve velké zasedačce.\n\nS pozdravem, Jiří',
      'Cena 5 Kč × 3 = 15 Kč, 20 °C, § 4',
    ],
    traps: [
      'ďábel', 'ďábla', 'ďáblem', 'ďáblice', 'Ďábel', 'ĎÁBEL', 'arciďábel', 'běžec', 'běžet', 'běžka', 'paměť', 'mezipaměť',
      'oběť', 'soutěž', 'soutěžit', 'těžba', 'těžit', 'sněžka', 'sněženka', 'svěžest', 'rovněž', 'rozvaděč', 'kněžna',
      'košíček', 'naděžda', 'něž', 'otěž', 'šťáva', 'jistěže', 'koloběžka', 'peněženka', 'obtěžovat', 'stěžovat', 'býčí',
      'liščí', 'dešťů', 'ledňáček', 'prvňáček', 'Baněček', 'baněčkem', 'bezděčka',
      'veďže', 'šťúply', 'šúľanec', 'bombarďák', 'trošíčka',
      'RÓŻĄ', 'WRÓŻĄC', 'NÓŻĘTAMI', 'STRÓŻĘ',
      'iarăşi', 'păşune', 'păşunea', 'depăşit', 'depăşire', 'desfăşurare', 'gingăşie', 'măşti', 'găşti', 'căşti', 'urăşte',
      'tovarăş', 'orăşean', 'ispăşire', 'făşie', 'Adăşeni', 'Orăştie', 'BRĂŞEU', 'ăştia',
    ],
  },
  CP866: {
    languages: 'Russian, Ukrainian, Bulgarian',
    texts: [
      'сам',
      'Съешь же ещё этих мягких французских булок, да выпей чаю.',
      'В чащах юга жил бы цитрус? Да, но фальшивый экземпляр!',
      'Там только сам он и совсем один: сперва сад, потом творог.',
      'Шеф взъярён тчк щипцы с эхом гудбай Жюль.',
      'СЪЕШЬ ЖЕ ЕЩЁ ЭТИХ МЯГКИХ БУЛОК',
      'Єнот Єгор, мабуть, спить: раптом так смачно їсть!',
      'Жълтата дюля беше щастлива, че пухът, който цъфна, замръзна като гьон.',
      'Според мен сватбата беше удачна, а фонтанът - светъл.',
      'Совещание в 10:30\nв большом зале.\n\nС уважением, Пётр',
      'Цена 5 руб. № 7, 20°',
    ],
    traps: [
      'сам', 'там', 'так', 'том', 'тон', 'чем', 'чей', 'чай', 'уже', 'сад', 'рад', 'сон', 'сок', 'шаг', 'только', 'совсем',
      'способ', 'сперва', 'творог', 'уборка', 'спичка', 'список', 'шансон', 'щелчок', 'удочка', 'улитка', 'тверже',
      'твердо', 'спешно',
      'раптом', 'сильно', 'смачно', 'скарга', 'спочин', 'скорий', 'ЄГОР', 'ЄНОТ', 'ЄВРО', 'ЄМЕН',
      'според', 'сватба', 'сметка', 'творба', 'уверен', 'удачен', 'ударен', 'фонтан', 'хватка', 'светло', 'смешен',
    ],
  },
  CP1252: {
    languages: 'Western European languages (Windows)',
    texts: [
      'café',
      'Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.',
      'Voix ambiguë d’un cœur qui, au zéphyr, préfère les jattes de kiwis. Œuvre « naïve »…',
      'Dès Noël où un zéphyr haï me vêt de glaçons würmiens, je dîne d’exquis rôtis de bœuf au kir à l’aÿ d’âge mûr & cætera !',
      'El pingüino Wenceslao hizo kilómetros bajo exhaustiva lluvia y frío, añoraba a su querido cachorro.',
      'À noite, vovô Kowalsky vê o ímã cair no pé do pingüim queixoso e vovó põe açúcar no chá de tâmaras do jabuti feliz.',
      'Høj bly gom vandt fræk sexquiz på wc.',
      'Kæmi ný öxi hér, ykist þjófum nú bæði víl og ádrepa.',
      'Preis 5 € – „billig“ – “quoted” • 2 × ½ l, 20 °C, © ™ ‰',
      'PRÉŒDIPIEN, CŒUR, SŒUR, ŸVELINE',
      'Rohr Ø½ Zoll, CAFÉ® und Ø¾',
      'Besprechung um 10:30\nim großen Saal.\n\nGrüße, Jürgen',
    ],
    traps: ['PRÉŒDIPIEN', 'PRÉŒDIPIENNE', 'PRÉŒDIPIENS', 'Ø½', 'Ø¼', 'Ø¾', 'Ø°', 'CAFÉ®'],
  },
};

describe('received text reads in the code page, as smbd reads it', () => {
  for (const [charset, { languages, texts }] of Object.entries(CORPUS)) {
    test(`${charset}: ${languages}`, () => {
      for (const text of texts) {
        const bytes = wire(text, charset);
        assert.equal(decodeReceivedText(bytes, charset), text, `${charset} ${JSON.stringify(text)}`);
        assert.equal(smbdShows(bytes, charset), text, 'smbd shows the same');
      }
    });
  }

  for (const [charset, { traps }] of Object.entries(CORPUS)) {
    test(`${charset}: words whose bytes happen to be valid UTF-8 still read as themselves`, () => {
      for (const word of traps) {
        for (const variant of new Set([word, word.toLowerCase(), word.toUpperCase(), word[0]?.toUpperCase() + word.slice(1).toLowerCase()])) {
          const { bytes, lossy } = encodeOem(variant, charset);
          if (lossy) continue; // a case form the code page lacks (Ÿ, SS for ß)
          if (variant === word) assert.ok(validUtf8(bytes), `${JSON.stringify(word)} is no trap in ${charset}: its bytes are not valid UTF-8`);
          assert.equal(decodeReceivedText(bytes, charset), variant, `${charset} ${JSON.stringify(variant)} (UTF-8 would read ${JSON.stringify(Buffer.from(bytes).toString('utf8'))})`);
        }
      }
    });
  }

  test('the known traps of the issue: CP852 "ďábel" (UTF-8 "Ԡbel") and CP866 "сам" (UTF-8 "ာ")', () => {
    assert.deepEqual([...encodeOem('ďábel', 'CP852').bytes], [0xd4, 0xa0, 0x62, 0x65, 0x6c]);
    assert.equal(decodeReceivedText(new Uint8Array([0xd4, 0xa0, 0x62, 0x65, 0x6c]), 'CP852'), 'ďábel');
    assert.deepEqual([...encodeOem('сам', 'CP866').bytes], [0xe1, 0xa0, 0xac]);
    assert.equal(decodeReceivedText(new Uint8Array([0xe1, 0xa0, 0xac]), 'CP866'), 'сам');
  });

  /** Lower-case letters of `charset` by script, and those whose capital the code page has too. */
  function alphabet(charset: string) {
    const scripts = new Map<string, { lower: string[]; cased: string[] }>();
    for (let byte = 0x41; byte <= 0xff; byte++) {
      const letter = decodeOem(new Uint8Array([byte]), charset);
      if (!/\p{Ll}/u.test(letter)) continue;
      const script = ['Latin', 'Greek', 'Cyrillic'].find((s) => new RegExp(`\\p{Script=${s}}`, 'u').test(letter));
      if (script === undefined) continue; // µ is Common: a sign more than a letter
      const entry = scripts.get(script) ?? { lower: [], cased: [] };
      entry.lower.push(letter);
      const capital = letter.toUpperCase();
      if (capital.length === 1 && !encodeOem(capital, charset).lossy) entry.cased.push(letter);
      scripts.set(script, entry);
    }
    return [...scripts.entries()];
  }

  for (const charset of Object.keys(CORPUS)) {
    test(`${charset}: any text of single-script words in natural case reads as itself (property)`, () => {
      const word = fc.oneof(
        ...alphabet(charset).flatMap(([, { lower, cased }]) => [
          fc.array(fc.constantFrom(...lower), { minLength: 1, maxLength: 12 }).map((l) => l.join('')),
          ...(cased.length === 0
            ? []
            : [
                fc
                  .tuple(fc.array(fc.constantFrom(...cased), { minLength: 1, maxLength: 12 }), fc.boolean())
                  .map(([l, all]) => (all ? l.join('').toUpperCase() : (l[0] as string).toUpperCase() + l.slice(1).join(''))),
              ]),
        ]),
      );
      const separator = fc.constantFrom(' ', ', ', '. ', '\n', ' - ', '! ', '? ', ': ', ' (', ') ', ' 12 ', '\'', '"');
      const text = fc.tuple(word, fc.array(fc.tuple(separator, word), { maxLength: 8 })).map(([first, rest]) => first + rest.map(([s, w]) => s + w).join(''));
      fc.assert(
        fc.property(text, (t) => {
          const bytes = wire(t, charset);
          assert.equal(decodeReceivedText(bytes, charset), t);
        }),
        { numRuns: 1000 },
      );
    });
  }

  test('any bytes decode to one of the two readings, never throwing (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...Object.keys(CORPUS)), (bytes, charset) => {
        let end = bytes.length;
        while (end > 0 && bytes[end - 1] === 0) end--;
        const body = Buffer.from(bytes.subarray(0, end));
        const readings = [decodeOem(body, charset), body.toString('utf8')].map((t) => t.replace(/\r\n/g, '\n'));
        assert.ok(readings.includes(decodeReceivedText(bytes, charset)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("smbclient's raw UTF-8, for a text the code page cannot carry", () => {
  // Ties: the code page reads these bytes as plausible text too, so they are read so, as smbd
  // shows them (documented, smbd-compatible).
  const ties: Array<[string, string, string]> = [
    ['CP866', '😀 ok', 'ЁЯША ok'], // an emoji is F0 9F xx xx: four Cyrillic capitals in CP866
    ['CP866', 'ok 👍', 'ok ЁЯСН'],
    ['CP850', '—', 'ÔÇö'], // a lone dash or ellipsis reads as a capitalised Latin "word"
    ['CP852', '…', 'ÔÇŽ'],
    ['CP852', 'a → b', 'a Ôćĺ b'],
    ['CP1252', 'a → b', 'a â†’ b'],
    ['CP1252', 'Ćao', 'Ä†ao'],
  ];
  const typical = ['Price 5€', 'costs 5 € only', 'naïve café — “quoted”', 'Привет, мир', '😀 ok', 'ok 👍', 'Łódź € ok', 'ďábel €', 'сам €', 'Ελληνικά κείμενα', '日本語のテキスト', 'Straße ✓', 'čau 👋', '❤️ ok', 'Grüße 😀', 'Acme™', 'déjà vu…'];

  test('typical texts read as the UTF-8 they are, in each code page that cannot carry them (but the ties below)', () => {
    let checked = 0;
    for (const charset of Object.keys(CORPUS)) {
      for (const text of typical) {
        if (!encodeOem(text, charset).lossy || ties.some(([c, t]) => c === charset && t === text)) continue;
        const bytes = smbclientSends(text, charset);
        assert.equal(Buffer.from(bytes).toString('utf8'), text, 'smbclient sent it raw');
        assert.equal(decodeReceivedText(bytes, charset), text, `${charset} ${JSON.stringify(text)} (code page: ${JSON.stringify(decodeOem(bytes, charset))})`);
        checked++;
      }
    }
    assert.ok(checked > 60, `${checked} checked`);
  });

  for (const [charset, text, shown] of ties) {
    test(`${charset}: ${JSON.stringify(text)} falls back to the code page (${JSON.stringify(shown)}, as smbd shows it)`, () => {
      const bytes = smbclientSends(text, charset);
      assert.equal(decodeReceivedText(bytes, charset), shown);
      assert.equal(smbdShows(bytes, charset), shown);
    });
  }

  test('CP1252: UTF-8 with a byte CP1252 does not define (81 8D 8F 90 9D) reads as UTF-8, where smbd delivers an empty text', () => {
    const bytes = smbclientSends('Tōkyō, Ő', 'CP1252');
    assert.equal(Buffer.from(bytes).toString('hex'), '54c58d6b79c58d2c20c590');
    assert.equal(smbdShows(bytes, 'CP1252'), '');
    assert.equal(decodeReceivedText(bytes, 'CP1252'), 'Tōkyō, Ő');
  });

  test('a long text whose 127-byte blocks cut a character: smbclient sends some blocks raw, and it reads as smbd shows it', () => {
    const text = 'Съешь же ещё этих мягких французских булок, да выпей чаю. '.repeat(3);
    const bytes = smbclientSends(text, 'CP866');
    assert.ok(!validUtf8(bytes), 'a mix of CP866 and UTF-8 blocks');
    assert.equal(decodeReceivedText(bytes, 'CP866'), smbdShows(bytes, 'CP866'));
    assert.notEqual(decodeReceivedText(bytes, 'CP866'), text, 'the raw blocks show as mojibake, with smbd too');
  });

  test('a text sent raw only because a block cut a character stays in the code page (UTF-8 reading fits it)', () => {
    // all blocks raw, yet every character fits CP866: smbclient would not send this as UTF-8 on purpose
    const bytes = Buffer.from('сам '.repeat(40), 'utf8');
    assert.equal(readsAsUtf8(bytes, 'CP866'), false);
    assert.equal(decodeReceivedText(bytes, 'CP866'), smbdShows(bytes, 'CP866'));
  });
});

describe('framing', () => {
  test('ASCII, an empty message, trailing NULs and CRLF line ends', () => {
    assert.equal(decodeReceivedText(Buffer.from('hello\r\nworld'), 'CP850'), 'hello\nworld');
    assert.equal(decodeReceivedText(new Uint8Array([0]), 'CP850'), '');
    assert.equal(decodeReceivedText(new Uint8Array([]), 'CP850'), '');
    assert.equal(decodeReceivedText(new Uint8Array([0x63, 0x61, 0x66, 0x82, 0, 0]), 'CP850'), 'café');
    assert.equal(decodeReceivedText(Buffer.concat([Buffer.from('5 €', 'utf8'), Buffer.from([0])]), 'CP850'), '5 €');
  });

  test('oddity names what real text lacks', () => {
    assert.equal(oddity('ďábel', 'oem'), undefined);
    assert.equal(oddity('Ԡbel', 'utf8'), 'letters of two scripts in one word (Ԡb)');
    assert.equal(oddity('ာ', 'utf8'), 'combining mark U+102C without a letter before it');
    assert.equal(oddity('тВм', 'oem'), 'a capital after a small letter (тВ)');
    assert.equal(oddity('caf├®', 'oem'), 'symbol ├ inside a word');
    assert.equal(oddity('Price 5Ôé¼', 'oem'), 'symbol ¼ in 3 non-ASCII characters in a row');
    assert.equal(oddity('caf├®s', 'oem'), 'symbol ├ inside a word');
    assert.equal(oddity('f├╝r', 'oem'), 'symbol ├ inside a word');
    assert.equal(oddity('Ã©t', 'oem'), 'symbol © inside a word');
    assert.equal(oddity('Γé¼', 'oem'), 'letters of two scripts in one word (Γé)');
    assert.equal(oddity('CAFÉ® Ø½ Zoll', 'oem'), undefined, 'a symbol at the edge of a word is real text');
    assert.equal(oddity('ok👍 Acme™', 'utf8'), undefined);
    assert.equal(oddity('a\u0007b', 'utf8'), 'control or replacement character U+0007');
    assert.equal(oddity('\ue000', 'utf8'), 'unassigned or private-use U+E000');
  });
});
