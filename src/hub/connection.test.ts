/** untilDone (connection.ts): the hub's retry loop, its pauses growing, and starting over after a try that ran a while. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { untilDone } from './connection.js';

test('untilDone tries again after each failure until the task succeeds, and a try that ran a minute before failing starts the count over', async () => {
  let clock = 0;
  const attempts: number[] = [];
  // the tries take: no time, no time, two minutes (a consumer that ran, then ended), no time
  const runFor = [0, 0, 120_000, 0];
  let tries = 0;
  const result = await untilDone(
    async () => {
      clock += runFor[tries] ?? 0;
      tries++;
      if (tries <= runFor.length) throw new Error(`try ${tries} failed`);
      return 'done';
    },
    () => false,
    (_error, attempt) => attempts.push(attempt),
    () => clock,
  );
  assert.equal(result, 'done');
  assert.deepEqual(attempts, [0, 1, 0, 1], 'the third try ran a while: its pause is the first one again');
});

test('untilDone gives up when stopped, and a failure handler that throws ends the tries', async () => {
  let stop = false;
  const stopped = await untilDone(
    async () => {
      stop = true;
      throw new Error('away');
    },
    () => stop,
    () => {},
  );
  assert.equal(stopped, undefined);
  await assert.rejects(
    untilDone(
      async () => {
        throw new Error('away');
      },
      () => false,
      () => {
        throw new Error('given up');
      },
    ),
    /given up/,
  );
});
