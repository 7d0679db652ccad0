/** `netsend send --wait` (waitForAcknowledgement in netsend-cli.ts) against a stub client. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Receipt } from '../messenger/events.js';
import { classicDateTime } from '../messenger/message.js';
import type { CliIo } from './io.js';
import { waitForAcknowledgement } from './netsend-cli.js';

function io(): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { io: { stdin: new PassThrough(), stdout, stderr, env: {} }, out: () => out, err: () => err };
}

const stored: Receipt = { id: 7, state: 'stored', at: null, surfaces: {} };
const acknowledged: Receipt = { id: 7, state: 'acknowledged', at: '2026-11-25T10:31:05.000Z', acknowledgedBy: 'alice', acknowledgedOn: 'desktop', surfaces: {} };

test('send --wait --time: an acknowledgement in the last moment before the deadline counts (exit 0), the receipt asked once more at the deadline', async () => {
  const start = Date.now();
  const polls: number[] = [];
  const client = {
    receipt: async () => {
      polls.push(Date.now() - start);
      return Date.now() - start >= 250 ? acknowledged : stored; // alice clicks just before the 0.3 s run out
    },
  };
  const { io: cli, out } = io();
  assert.equal(await waitForAcknowledgement(client, { delivered: 'local', id: 7 }, 0.3, cli, false), 0);
  assert.equal(out(), `Acknowledged by alice on desktop at ${classicDateTime(new Date('2026-11-25T10:31:05.000Z'))}.\n`, 'in local time, for people');
  assert.ok((polls.at(-1) ?? 0) >= 290, `the last poll at the deadline (polls at ${polls.join(', ')} ms)`);
});

test('send --wait --time: nobody acknowledges in time: exit 3 after a last look at the deadline', async () => {
  const start = Date.now();
  const polls: number[] = [];
  const { io: cli, err } = io();
  const code = await waitForAcknowledgement({ receipt: async () => (polls.push(Date.now() - start), stored) }, { delivered: 'local', id: 7 }, 0.3, cli, false);
  assert.equal(code, 3);
  assert.equal(err(), 'netsend: not acknowledged within 0.3 s (message 7 is stored); `netsend receipt 7` asks again.\n');
  assert.ok((polls.at(-1) ?? 0) >= 290 && (polls.at(-1) ?? 0) < 1000, `polls at ${polls.join(', ')} ms`);
});
