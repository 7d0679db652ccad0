/**
 * The short fuzzing run that is part of `npm test`; `npm run fuzz` is the long one. Seeds are
 * fixed here so a failure replays; the long run picks a new seed each time and prints it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzDecoders } from './harness.js';
import { fuzzDaemonSockets } from './sockets.js';

test('every decoder takes 20,000 mutated real packets with a value or a DecodeError, nothing else', () => {
  const report = fuzzDecoders({ seconds: 10, maxInputs: 20_000, seed: 20261125 });
  assert.ok(report.inputs >= 2_000, `only ${report.inputs} inputs in the time allowed`);
  assert.ok(report.heapGrowthMiB < 64, `the heap grew ${report.heapGrowthMiB.toFixed(1)} MiB`);
});

test('a live daemon takes 3 s of mutated sessions, secure-channel requests, name packets and datagrams, and keeps serving', async () => {
  const report = await fuzzDaemonSockets({ seconds: 3, seed: 20261125 });
  assert.equal(report.alive, true, 'the daemon is still running');
  assert.equal(report.controlAnswers, true, 'its control socket still answers');
  assert.ok(report.tcpSessions > 50 && report.udpPackets > 500 && report.secureSessions > 20, JSON.stringify(report));
  assert.ok(report.rssAfterMiB < report.rssBeforeMiB + 150, `memory grew from ${report.rssBeforeMiB} to ${report.rssAfterMiB} MiB`);
});
