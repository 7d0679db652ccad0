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
  const { consumer, closed } = fakeConsumer([{ type: 'heartbeats_missed', count: 2 }]);
  assert.equal(await within(2000, inbox().consume(consumer, () => false)), 'retake');
  assert.ok(closed());
});

test('its consumer deleted under it: the consumption ends, for the hub to make the consumer again', async () => {
  const { consumer, closed } = fakeConsumer([{ type: 'consumer_deleted', code: 409, description: 'Consumer Deleted' }]);
  assert.equal(await within(2000, inbox().consume(consumer, () => false)), 'ended');
  assert.ok(closed());
});

test('the hub asks for a retake (its connection moved to another server): the consumption ends, at once if asked before it began', async () => {
  const moving = new AbortController();
  const { consumer, closed } = fakeConsumer([{ type: 'heartbeat', lastConsumerSequence: 1, lastStreamSequence: 1 }]);
  const consuming = inbox().consume(consumer, () => false, moving.signal);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(closed(), false, 'a heartbeat ends nothing');
  moving.abort();
  assert.equal(await within(2000, consuming), 'retake');
  assert.ok(closed());
  const early = fakeConsumer();
  assert.equal(await within(2000, inbox().consume(early.consumer, () => false, AbortSignal.abort())), 'retake');
  assert.ok(early.closed());
});
