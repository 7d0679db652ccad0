/** The inbox's consumption ends when its pull died with a server or the connection moved (the hub pulls again at once), or its consumer was deleted (the hub makes it again). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consumer, ConsumerMessages, ConsumerNotification, JsMsg } from '@nats-io/jetstream';
import { HubInbox, type InboxOptions } from './inbox.js';

/** Deliveries that never come, and the notifications a test gives; closed as nats.js closes them (an end of both). */
function fakeConsumer(notifications: ConsumerNotification[] = []) {
  let closed = false;
  let wake: () => void = () => {};
  const until = new Promise<void>((resolve) => (wake = resolve));
  const messages = {
    async *[Symbol.asyncIterator](): AsyncGenerator<JsMsg> {
      await until;
    },
    async *status(): AsyncGenerator<ConsumerNotification> {
      yield* notifications;
      await until;
    },
    close: async () => {
      closed = true;
      wake();
    },
  };
  const consumer = { consume: async () => messages as unknown as ConsumerMessages } as unknown as Consumer;
  return { consumer, closed: () => closed };
}

/** An inbox with nothing owed and nothing to receive: only its consumption is looked at. */
const inbox = () =>
  new HubInbox({ store: { owedReceipts: async () => [], receiptsTold: async () => {} }, log: () => {} } as unknown as InboxOptions);

const within = <T>(ms: number, what: Promise<T>) =>
  Promise.race([what, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms).unref())]);

test('two heartbeats missed (the pull died with its server): the consumption is closed and ends, for the hub to pull again at once', async () => {
  const { consumer, closed } = fakeConsumer([{ type: 'heartbeat', lastConsumerSequence: 1, lastStreamSequence: 1 }, { type: 'heartbeats_missed', count: 2 }]);
  assert.deepEqual(await within(2000, inbox().consume(consumer, () => false)), { why: 'retake', heard: true });
  assert.ok(closed());
});

test('a pull no server took (the consumer has no leader yet): pulled again shortly, and it heard nothing', async () => {
  const { consumer, closed } = fakeConsumer([{ type: 'no_responders', code: 503 }]);
  const started = performance.now();
  assert.deepEqual(await within(2000, inbox().consume(consumer, () => false)), { why: 'retake', heard: false });
  assert.ok(closed());
  assert.ok(performance.now() - started >= 400, 'not at once: a pause between pulls while there is no leader');
});

test('its consumer deleted under it, or limits its pulls exceed: the consumption ends, for the hub to look the consumer up (make it) again', async () => {
  for (const notice of [{ type: 'consumer_deleted', code: 409, description: 'Consumer Deleted' }, { type: 'exceeded_limits', code: 409, description: 'Exceeded MaxWaiting' }] as const) {
    const { consumer, closed } = fakeConsumer([notice]);
    assert.equal((await within(2000, inbox().consume(consumer, () => false))).why, 'ended', notice.type);
    assert.ok(closed());
  }
});

test('the hub asks for a retake (its connection moved to another server): the consumption ends, at once if asked before it began', async () => {
  const moving = new AbortController();
  const { consumer, closed } = fakeConsumer([{ type: 'heartbeat', lastConsumerSequence: 1, lastStreamSequence: 1 }]);
  const consuming = inbox().consume(consumer, () => false, moving.signal);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(closed(), false, 'a heartbeat ends nothing');
  moving.abort();
  assert.deepEqual(await within(2000, consuming), { why: 'retake', heard: true });
  assert.ok(closed());
  const early = fakeConsumer();
  assert.deepEqual(await within(2000, inbox().consume(early.consumer, () => false, AbortSignal.abort())), { why: 'retake', heard: false });
  assert.ok(early.closed());
});
