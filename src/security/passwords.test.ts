import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, newToken, tokenHash, verifyPassword } from './passwords.js';

test('a scrypt hash verifies its password and nothing else, and carries its parameters and a fresh salt', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('correct horsE', hash), false);
  assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
});

test('malformed or hostile stored hashes never verify and never throw', async () => {
  for (const stored of ['', 'plain', 'scrypt$1$1$1$$', 'md5$a$b$c$d$e', 'scrypt$1099511627776$8$1$c2FsdA==$a2V5', 'scrypt$x$8$1$c2FsdA==$a2V5']) {
    assert.equal(await verifyPassword('pw', stored), false, stored);
  }
  assert.equal(await verifyPassword('x'.repeat(2000), await hashPassword('x')), false, 'over-long passwords are refused before hashing');
});

test('tokens are 256 random bits with a prefix, and their hash is stable', () => {
  const a = newToken();
  assert.match(a, /^nst_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(newToken(), a);
  assert.equal(tokenHash(a), tokenHash(a));
  assert.match(tokenHash(a), /^[0-9a-f]{64}$/);
});
