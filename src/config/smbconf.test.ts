/** The smb.conf-syntax config file parser (smbconf.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfSyntaxError, MAX_CONF_BYTES, canonicalKey, parseSmbConf } from './smbconf.js';

const syntaxError = (words: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ConfSyntaxError, `expected a ConfSyntaxError, got ${String(e)}`);
  assert.ok(e instanceof SyntaxError);
  assert.equal(e.name, 'ConfSyntaxError');
  assert.match(e.message, words);
  return true;
};

test('parseSmbConf reads key = value lines of [global] with their line numbers', () => {
  const text = '[global]\n  netbios name = PC1\n\tworkgroup=OFFICE  \nmax aliases =   5\n';
  assert.deepEqual(parseSmbConf(text, 'netsend.conf'), [
    { key: 'netbiosname', value: 'PC1', line: 2 },
    { key: 'workgroup', value: 'OFFICE', line: 3 },
    { key: 'maxaliases', value: '5', line: 4 },
  ]);
});

test('parseSmbConf skips comments starting with # or ; and blank lines', () => {
  const text = '# netsend\n; comment\n   # indented comment\n\n   \n[global]\n\t; tab comment\nterminal = no\n';
  assert.deepEqual(parseSmbConf(text, 'f'), [{ key: 'terminal', value: 'no', line: 8 }]);
});

test('parseSmbConf keeps # and ; inside a value (Samba has no trailing comments)', () => {
  assert.deepEqual(parseSmbConf('message command = notify %f ; echo # x\n', 'f'), [{ key: 'messagecommand', value: 'notify %f ; echo # x', line: 1 }]);
});

test('parseSmbConf reads CRLF files, lines before any section, [Global] in any case, values holding = and empty values', () => {
  assert.deepEqual(parseSmbConf('workgroup = A\r\n[ Global ]\r\nmessage command = env X=1 notify\r\nwins server =\r\n', 'f'), [
    { key: 'workgroup', value: 'A', line: 1 },
    { key: 'messagecommand', value: 'env X=1 notify', line: 3 },
    { key: 'winsserver', value: '', line: 4 },
  ]);
  assert.deepEqual(parseSmbConf('', 'f'), []);
});

test('parseSmbConf refuses any section other than [global], naming file and line', () => {
  assert.throws(() => parseSmbConf('[global]\nworkgroup = A\n[homes]\n', '/etc/netsend.conf'), syntaxError(/^\/etc\/netsend\.conf:3: unknown section \[homes\]; netsend reads only \[global\]$/));
  assert.throws(() => parseSmbConf('[printers]\n', 'f'), syntaxError(/^f:1: unknown section \[printers\]/));
});

test('parseSmbConf refuses a line without =, or with nothing before it, naming file and line', () => {
  assert.throws(() => parseSmbConf('[global]\n\nnetbios name PC1\n', 'netsend.conf'), syntaxError(/^netsend\.conf:3: expected "key = value", found "netbios name PC1"$/));
  assert.throws(() => parseSmbConf('= PC1', 'netsend.conf'), syntaxError(/^netsend\.conf:1: expected "key = value", found "= PC1"$/));
  assert.throws(() => parseSmbConf('[global', 'netsend.conf'), syntaxError(/^netsend\.conf:1: expected "key = value"/), 'an unclosed header');
});

test(`parseSmbConf refuses a file over ${MAX_CONF_BYTES} bytes`, () => {
  assert.equal(parseSmbConf('#'.repeat(MAX_CONF_BYTES), 'f').length, 0);
  assert.throws(() => parseSmbConf('#'.repeat(MAX_CONF_BYTES + 1), 'big.conf'), syntaxError(/^big\.conf is over 65536 bytes$/));
});

test("canonicalKey: 'Netbios  Name', 'netbiosname', 'NETBIOS_NAME' and 'netbios-name' are one key", () => {
  for (const key of ['Netbios  Name', 'netbiosname', 'NETBIOS_NAME', 'netbios-name', ' netbios\tname ']) assert.equal(canonicalKey(key), 'netbiosname', JSON.stringify(key));
  assert.deepEqual(parseSmbConf('Netbios  Name = X\nnetbiosname = Y', 'f').map((e) => e.key), ['netbiosname', 'netbiosname']);
});

test('canonicalKey is idempotent and ignores case, spaces, underscores and dashes', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30, unit: fc.constantFrom(...'abcXYZ _-\t09') }), (key) => {
      const canonical = canonicalKey(key);
      assert.equal(canonicalKey(canonical), canonical);
      assert.equal(canonicalKey(key.toUpperCase()), canonical);
      assert.doesNotMatch(canonical, /[\sA-Z_-]/);
    }),
    { numRuns: 300 },
  );
});
