import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './rate-limit.js';

test('RateLimiter lets a source burst, then refills at its rate, each source apart', () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('10.0.0.1')), [true, true, true, false]);
  assert.equal(limiter.take('10.0.0.2'), true, 'another source has its own bucket');
  now += 500;
  assert.deepEqual([limiter.take('10.0.0.1'), limiter.take('10.0.0.1')], [true, false], 'half a second earns one token');
  now += 10_000;
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('10.0.0.1')), [true, true, true, false], 'never more than the burst');
});

test('RateLimiter forgets the least recently seen sources past its bound', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxSources: 100, now: () => 0 });
  for (let i = 0; i < 1000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(limiter.trackedSources, 100);
});

test('RateLimiter.refund gives a token back, never past the burst', () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, now: () => now });
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('a'), false);
  limiter.refund('a');
  assert.equal(limiter.take('a'), true);
  limiter.refund('a');
  limiter.refund('a');
  limiter.refund('a');
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('a'), false, 'refunds stop at the burst');
  limiter.refund('unknown'); // nothing to give back to
});
