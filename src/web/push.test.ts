/** The web inbox's live stream: who sees what, and what a slow or gone page may hold. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import type { StoredMessage } from '../messenger/message.js';
import { PushHub, canSee } from './push.js';

/** A response as the hub uses it: what was written, how much is unsent, whether its socket is gone. */
class FakeResponse extends EventEmitter {
  readonly written: string[] = [];
  writableLength = 0;
  destroyed = false;
  ended = false;
  readonly socket = { destroyed: false };
  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.socket.destroyed = true;
    setImmediate(() => this.emit('close'));
  }
  get raw(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}

const message = (id: number, to: string, text = 'hi'): StoredMessage => ({ id, from: 'BOB', to, text, receivedAt: new Date(0).toISOString() }) as unknown as StoredMessage;
const all = { seesAll: true, recipients: [] };
const tick = () => new Promise((resolve) => setImmediate(resolve));

test("a page that stops reading is cut off: its socket is destroyed, and it counts against the limits until the socket has closed", async () => {
  const hub = new PushHub({ maxBufferedBytes: 1000, maxClients: 1 });
  const slow = new FakeResponse();
  assert.equal(hub.open(slow.raw, all, 's1', () => true), true);
  hub.deliver(message(1, 'ALICE'));
  assert.equal(slow.written.length, 1);
  slow.writableLength = 5000; // the page reads nothing
  hub.deliver(message(2, 'ALICE'));
  assert.equal(slow.destroyed, true, 'destroyed, not ended behind its unread output');
  assert.equal(slow.ended, false);
  assert.equal(slow.written.length, 1, 'nothing more written to it');
  assert.equal(hub.hasRoom('s2'), false, 'still counted while its socket closes');
  await tick();
  assert.equal(hub.size, 0);
  assert.equal(hub.hasRoom('s2'), true);
});

test('a page that left during the login check takes no stream slot', () => {
  const hub = new PushHub({ maxPerSession: 1 });
  const gone = new FakeResponse();
  gone.socket.destroyed = true;
  assert.equal(hub.open(gone.raw, all, 's1', () => true), false);
  assert.equal(hub.size, 0);
  assert.equal(hub.hasRoom('s1'), true);
});

test('the catch-up after a reconnect stays within the buffer bound: the newest that fit, oldest first, then a reload for the rest', () => {
  const hub = new PushHub({ maxBufferedBytes: 1000 });
  const page = new FakeResponse();
  hub.open(page.raw, all, 's1', () => true);
  const missed = [5, 4, 3, 2, 1].map((id) => message(id, 'ALICE', 'x'.repeat(200))); // newest first, as the store lists them
  hub.catchUp(page.raw, missed);
  const text = page.written.join('');
  const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(ids, [3, 4, 5], 'as many of the newest as fit in 1000 bytes, oldest first');
  assert.ok(Buffer.byteLength(text) <= 1000 + 200, `${Buffer.byteLength(text)} bytes written`);
  assert.match(text, /event: reload\n/, 'the page is told to fetch the list again');
  const whole = new FakeResponse();
  hub.catchUp(whole.raw, missed.slice(0, 2));
  assert.doesNotMatch(whole.written.join(''), /reload/, 'no reload when all fit');
});

test('an account that changed loses its streams at once (sweep), not at the next message', async () => {
  const hub = new PushHub();
  let allowed = true;
  const page = new FakeResponse();
  hub.open(page.raw, { seesAll: false, recipients: ['ALICE'] }, 'header:alice', () => allowed);
  hub.sweep();
  assert.equal(page.destroyed, false);
  allowed = false;
  hub.sweep();
  assert.equal(page.destroyed, true);
  await tick();
  assert.equal(hub.size, 0);
});

test('who sees a message on the stream is who finds it in the list: canonical names, ASCII case only (SQLite NOCASE)', () => {
  const emile = { seesAll: false, recipients: ['ÉMILE', 'WORKGROUP'] };
  assert.equal(canSee(emile, 'ÉMILE'), true);
  assert.equal(canSee(emile, 'Émile'), true, 'ASCII letters compare without case');
  assert.equal(canSee(emile, 'workgroup'), true);
  assert.equal(canSee(emile, 'émile'), false, 'as NOCASE, É and é differ: messages are stored under the canonical ÉMILE');
  assert.equal(canSee(emile, 'ALICE'), false);
});
