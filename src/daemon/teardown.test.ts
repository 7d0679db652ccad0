/** TeardownStack (teardown.ts): the daemon's stop order, and a part that fails to stop. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TeardownStack } from './teardown.js';

test('unwind stops the parts newest first, waiting for each, and each only once', async () => {
  const stopped: string[] = [];
  const stack = new TeardownStack(() => assert.fail('nothing failed'));
  stack.push('store', () => void stopped.push('store'));
  stack.push('surfaces', async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    stopped.push('surfaces');
  });
  stack.push('web inbox', () => void stopped.push('web inbox'));
  await stack.unwind();
  assert.deepEqual(stopped, ['web inbox', 'surfaces', 'store']);
  await stack.unwind();
  assert.deepEqual(stopped, ['web inbox', 'surfaces', 'store'], 'a second unwind stops nothing again');
});

test('a part that fails to stop does not keep the others from stopping; the first error is rethrown, the later ones logged', async () => {
  const stopped: string[] = [];
  const log: string[] = [];
  const stack = new TeardownStack((line) => log.push(line));
  const first = new Error('EBUSY');
  stack.push('store', () => void stopped.push('store'));
  stack.push('name service', () => Promise.reject(new Error('ENETDOWN')));
  stack.push('mailslot', () => void stopped.push('mailslot'));
  stack.push('control socket', () => {
    throw first;
  });
  stack.push('address watcher', () => void stopped.push('address watcher'));
  await assert.rejects(stack.unwind(), (error) => error === first);
  assert.deepEqual(stopped, ['address watcher', 'mailslot', 'store']);
  assert.deepEqual(log, ['stopping the name service failed: Error: ENETDOWN']);
});

test('an unwind with nothing failing resolves', async () => {
  const stack = new TeardownStack(() => {});
  await stack.unwind();
  stack.push('store', async () => {});
  await stack.unwind();
});
