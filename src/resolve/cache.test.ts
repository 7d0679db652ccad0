import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameCache } from './cache.js';
import type { NameResolver } from './resolver.js';

test('NameCache asks the sources in order, keeps positive answers for the timeout, and forgets on request', async () => {
  const asked: string[] = [];
  const source = (label: string, answer: string | null): NameResolver => ({
    resolve: async (name) => {
      asked.push(`${label}:${name}`);
      return answer === null ? null : { address: answer, port: 139 };
    },
  });
  let now = 0;
  const cache = new NameCache([source('lmhosts', null), source('bcast', '10.0.0.9')], 660, () => now);
  assert.deepEqual(await cache.resolve('alice', 3), { address: '10.0.0.9', port: 139 });
  assert.deepEqual(asked, ['lmhosts:alice', 'bcast:alice']);
  assert.deepEqual(await cache.resolve('ALICE', 3), { address: '10.0.0.9', port: 139 });
  assert.equal(asked.length, 2, 'the second lookup came from the cache');
  now += 661_000;
  await cache.resolve('ALICE', 3);
  assert.equal(asked.length, 4, 'an expired answer is asked for again');
  cache.forget('alice', 3);
  assert.equal(cache.has('ALICE', 3), false);
  const none = new NameCache([source('lmhosts', null)], 660, () => now);
  assert.equal(await none.resolve('NOBODY', 3), null);
  assert.equal(none.has('NOBODY', 3), false, 'negative answers are not cached');
});

test("NameCache keys names as Samba's name cache does: per character upper case, so straße is STRAßE, not STRASSE", async () => {
  const asked: string[] = [];
  const cache = new NameCache([{ resolve: async (name) => (asked.push(name), { address: name === 'straße' ? '10.0.0.1' : '10.0.0.2', port: 139 }) }], 660);
  assert.deepEqual(await cache.resolve('straße', 3), { address: '10.0.0.1', port: 139 });
  assert.ok(cache.has('STRAßE', 3), 'the same name in upper case');
  assert.ok(!cache.has('STRASSE', 3), 'another name');
  assert.deepEqual(await cache.resolve('strasse', 3), { address: '10.0.0.2', port: 139 });
  assert.deepEqual(asked, ['straße', 'strasse']);
});
