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

test('RateLimiter.available looks without taking, so only failures need to be charged', () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, now: () => now });
  assert.equal(limiter.available('a'), true);
  assert.equal(limiter.available('a'), true, 'looking is free');
  limiter.take('a');
  limiter.take('a');
  assert.equal(limiter.available('a'), false);
  now += 1000;
  assert.equal(limiter.available('a'), true);
});
