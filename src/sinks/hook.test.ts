import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StoredMessage } from '../messenger/message.js';
import { HookSink, splitCommandLine } from './hook.js';

/** Running, not merely a zombie waiting for a parent to reap it. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const message = (id: number, from = 'BOB'): StoredMessage => ({
  id, from, to: 'ALICE', text: `text ${id}`, via: 'local', senderUid: null, senderAddress: null, receivedAt: new Date(),
});

test('splitCommandLine splits words like a shell, without running one', () => {
  const cases: Array<[string, string[]]> = [
    ['notify %f %t', ['notify', '%f', '%t']],
    [`/bin/sh -c 'cat %s > "out file"'`, ['/bin/sh', '-c', 'cat %s > "out file"']],
    [`a "b \\"c\\" d" e\\ f`, ['a', 'b "c" d', 'e f']],
    ['  spaced   out  ', ['spaced', 'out']],
    ['', []],
  ];
  for (const [line, words] of cases) assert.deepEqual(splitCommandLine(line), words, line);
  assert.throws(() => splitCommandLine(`echo 'open`), SyntaxError);
  assert.throws(() => splitCommandLine('echo "open'), SyntaxError);
});

test('a hook past its time limit is killed with everything it started, and logged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ns-hook-'));
  const logs: string[] = [];
  try {
    const pidFile = join(dir, 'child.pid');
    const hook = new HookSink({
      command: `/bin/sh -c 'sleep 30 & echo $! > ${pidFile}; wait'`,
      timeoutMs: 300,
      spoolDir: join(dir, 'spool'),
      concurrency: 1,
      maxQueued: 10,
      log: (line) => logs.push(line),
    });
    const started = Date.now();
    hook.deliver(message(1));
    await hook.drain();
    assert.ok(Date.now() - started < 3000, `the hook slot was held ${Date.now() - started} ms by what the command left running`);
    assert.match(logs.join('\n'), /message 1 failed: Error: killed after 300 ms/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(running(pid), false, 'the grandchild (sleep) is gone too');
    assert.equal(existsSync(join(dir, 'spool', 'message-1.txt')), false, 'the text file is removed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a full queue skips the hook for new messages and says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ns-hook-'));
  const logs: string[] = [];
  try {
    const hook = new HookSink({ command: '/bin/sleep 0.2', timeoutMs: 5000, spoolDir: dir, concurrency: 1, maxQueued: 1, log: (l) => logs.push(l) });
    for (let id = 1; id <= 3; id++) hook.deliver(message(id));
    await hook.drain();
    assert.deepEqual(logs, ['message command: queue full (1); skipped for message 3']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
