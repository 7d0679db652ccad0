/** The daemon's own terminal (terminal.ts): a reader that goes away does not take the daemon with it. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { StoredMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { FanOut } from './fanout.js';
import { TerminalSink } from './terminal.js';

const message = (id: number): StoredMessage => ({
  id, from: 'BOB', to: 'ALICE', text: `text ${id}`, via: 'local', sender: senderOf({ uid: 1000, user: 'bob' }), receivedAt: new Date(2026, 10, 25, 10, 31, 5),
});

test('messages show on the daemon terminal as the pop-up read', () => {
  let written = '';
  const out = new Writable({ write: (chunk: Buffer, _encoding, done) => { written += chunk.toString(); done(); } });
  new TerminalSink(out).deliver(message(1));
  assert.equal(written, 'Message from BOB to ALICE on 11/25/2026 10:31:05 AM  [id 1]\n\ntext 1\n\n', 'bob sending as BOB: the header says it all; the id is for netsend ack');
});

test('the pop-up says who really sent a message whose name is only a claim, or another than the local sender\'s', () => {
  let written = '';
  const out = new Writable({ write: (chunk: Buffer, _encoding, done) => { written += chunk.toString(); done(); } });
  const sink = new TerminalSink(out);
  sink.deliver({ ...message(1), from: 'ROOT', sender: senderOf({ uid: 1000, user: 'mallory' }) });
  sink.deliver({ ...message(2), via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }) });
  assert.equal(
    written,
    'Message from ROOT to ALICE on 11/25/2026 10:31:05 AM  [id 1]\n(verified: sent by the local account mallory)\n\ntext 1\n\n' +
      "Message from BOB to ALICE on 11/25/2026 10:31:05 AM  [id 2]\n(unverified: came over the legacy SMB wire; the sender's name is not proven)\n\ntext 2\n\n",
  );
});

test('a titled message shows its title on a line of its own under the header, cleaned like every name from the network', () => {
  let written = '';
  const out = new Writable({ write: (chunk: Buffer, _encoding, done) => { written += chunk.toString(); done(); } });
  new TerminalSink(out).deliver({ ...message(1), title: 'Backup \u001b[2Jdone', priority: 'urgent' });
  assert.equal(written, 'URGENT Message from BOB to ALICE on 11/25/2026 10:31:05 AM  [id 1]\nTitle: Backup done\n\ntext 1\n\n');
});

test('when the reader of the daemon output goes away (EPIPE), the daemon logs it once, keeps running and the other sinks still get each message', async () => {
  // A real pipe whose reader has closed it, as `netsend serve | head -1` leaves the daemon.
  const reader = spawn('sh', ['-c', 'exec <&-; echo closed; exec sleep 30'], { stdio: ['pipe', 'pipe', 'ignore'] });
  await once(reader.stdout, 'data');
  try {
    const logs: string[] = [];
    const others: number[] = [];
    const errors: unknown[] = [];
    const fan = new FanOut([new TerminalSink(reader.stdin, (line) => logs.push(line)), { deliver: (m) => others.push(m.id) }], (e) => errors.push(e));
    let writes = 0;
    const write = reader.stdin.write.bind(reader.stdin);
    reader.stdin.write = ((...args: Parameters<typeof write>) => (writes++, write(...args))) as typeof write;
    for (let id = 1; id <= 3; id++) {
      fan.deliver(message(id));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(others, [1, 2, 3]);
    assert.deepEqual(errors, []);
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0] ?? '', /^terminal: cannot write to the daemon's output \(EPIPE\); messages are no longer shown there$/);
    assert.equal(writes, 1, 'nothing more is written to the dead pipe');
  } finally {
    reader.kill();
  }
});

test('a failing output without a log: delivering throws nothing, nothing more is written after the first failure, no error goes uncaught', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const out = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    let writes = 0;
    const write = out.write.bind(out);
    out.write = ((...args: Parameters<typeof write>) => (writes++, write(...args))) as typeof write;
    const sink = new TerminalSink(out);
    for (let id = 1; id <= 3; id++) {
      assert.doesNotThrow(() => sink.deliver(message(id)), `delivering message ${id}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(out.errored?.message, 'write EPIPE', 'the output did fail');
    assert.equal(writes, 1, 'nothing more is written after the first failure');
    assert.deepEqual(uncaught, [], 'the failure raised no uncaught error');
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
