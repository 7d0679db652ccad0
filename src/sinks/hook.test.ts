/**
 * The message command (hook.ts) end to end with real child processes. Commands `cd` into a temp
 * dir first, so a failed sanitization could only ever create files there.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { StoredMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { splitCommandLine } from '../config/command-line.js';
import { HookSink, type HookOptions } from './hook.js';

const RECEIVED_AT = new Date('2026-11-25T10:31:05.000Z');

const message = (id: number, fields: Partial<StoredMessage> = {}): StoredMessage => ({
  id, from: 'BOB', to: 'ALICE', text: `text ${id}`, via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }), receivedAt: RECEIVED_AT, ...fields,
});

/** A temp dir with a spool folder inside, removed afterwards. */
async function withDir(run: (dir: string, spool: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-hooksink-'));
  try {
    await run(dir, join(dir, 'spool'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Running, not merely a zombie waiting for a parent to reap it. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether `pid` stops running within `ms` (checked every 20 ms). */
async function stopsRunning(pid: number, ms = 2000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (!running(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return !running(pid);
}

function hook(command: string, spool: string, logs: string[], options: Partial<HookOptions> = {}): HookSink {
  return new HookSink({ command, timeoutMs: 10_000, spoolDir: spool, concurrency: 2, maxQueued: 10, log: (line) => logs.push(line), ...options });
}

describe('splitCommandLine', () => {
  test('splitCommandLine splits words like a shell: quotes, escapes, empty words', () => {
    const cases: Array<[string, string[]]> = [
      ['notify-send %f %t', ['notify-send', '%f', '%t']],
      ['\ta \n b\t', ['a', 'b']],
      ['  spaced   out  ', ['spaced', 'out']],
      ['', []],
      ['   ', []],
      ["''", ['']],
      ['""', ['']],
      ["a '' b", ['a', '', 'b']],
      ["it'\"s'", ['it"s']],
      [`'it'"'"'s'`, ["it's"]],
      [`a'b c'd`, ['ab cd']],
      [`'$HOME \\n'`, ['$HOME \\n'], /* single quotes are literal, backslash too */],
      [`"a \\"b\\" \\\\ \\n"`, ['a "b" \\ \\n']],
      [`a\\ b c\\'d`, ['a b', "c'd"]],
      [`a "b \\"c\\" d" e\\ f`, ['a', 'b "c" d', 'e f']],
      ['trailing\\', ['trailing\\']],
      [`/bin/sh -c 'cat %s > "out file"'`, ['/bin/sh', '-c', 'cat %s > "out file"']],
    ];
    for (const [line, words] of cases) assert.deepEqual(splitCommandLine(line), words, JSON.stringify(line));
  });

  test('splitCommandLine throws a SyntaxError naming the command for an unterminated quote', () => {
    assert.throws(() => splitCommandLine("echo 'open"), (e: unknown) => e instanceof SyntaxError && e.message === `Unterminated ' in command "echo 'open"`);
    assert.throws(() => splitCommandLine('echo "open'), (e: unknown) => e instanceof SyntaxError && /^Unterminated " in command/.test(e.message));
    assert.throws(() => splitCommandLine('echo "ends with escaped quote\\"'), SyntaxError);
  });
});

describe('HookSink running the message command', () => {
  test('HookSink refuses an empty command (TypeError) and an unterminated quote (SyntaxError)', () => {
    const options = { timeoutMs: 1000, spoolDir: tmpdir(), concurrency: 1, maxQueued: 1, log: () => {} };
    assert.throws(() => new HookSink({ ...options, command: '   ' }), { name: 'TypeError', message: 'The message command is empty' });
    assert.throws(() => new HookSink({ ...options, command: "notify 'x" }), SyntaxError);
  });

  test('HookSink drain resolves at once when nothing was delivered', async () => {
    await withDir(async (_dir, spool) => {
      await hook('/bin/true', spool, []).drain();
    });
  });

  test('HookSink runs the command with the text in the message file and the exact names in the environment', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const sink = hook(
        `/bin/sh -c 'cd ${dir} && cat "$NETSEND_MESSAGE_FILE" > OUT; printf "%%s|%%s|%%s|%%s|%%s" "$NETSEND_FROM" "$NETSEND_TO" "$NETSEND_ID" "$NETSEND_VIA" "$NETSEND_RECEIVED_AT" > OUT2; stat -c %a "$NETSEND_MESSAGE_FILE" > MODE'`,
        spool,
        logs,
      );
      const text = 'Server going down at 5.\nSave your work — grüße 😀';
      sink.deliver(message(42, { text }));
      await sink.drain();
      assert.deepEqual(logs, []);
      assert.equal(await readFile(join(dir, 'OUT'), 'utf8'), text, 'the file holds the text as UTF-8');
      assert.equal(await readFile(join(dir, 'OUT2'), 'utf8'), 'BOB|ALICE|42|smb|2026-11-25T10:31:05.000Z');
      assert.equal((await readFile(join(dir, 'MODE'), 'utf8')).trim(), '600', 'only the daemon user can read the text file');
    });
  });

  test('HookSink tells the command who really sent a message, as every surface does (NETSEND_VERIFIED, NETSEND_SENDER)', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const sink = hook(`/bin/sh -c 'printf "%%s|%%s\\n" "$NETSEND_VERIFIED" "$NETSEND_SENDER" >> ${dir}/WHO'`, spool, logs);
      sink.deliver(message(1));
      sink.deliver(message(2, { via: 'local', from: 'ROOT', sender: senderOf({ uid: 1002, user: 'mallory' }) }));
      sink.deliver(message(3, { via: 'local', from: 'MALLORY', sender: senderOf({ uid: 1002, user: 'mallory' }) }));
      await sink.drain();
      assert.deepEqual(logs, []);
      assert.deepEqual((await readFile(join(dir, 'WHO'), 'utf8')).trim().split('\n').sort(), [
        "no|unverified: came over the legacy SMB wire; the sender's name is not proven",
        'yes|',
        'yes|verified: sent by the local account mallory',
      ]);
    });
  });

  test('HookSink substitutes %f, %t, %s, %i and %% in the command words', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const sink = hook(`/bin/sh -c 'printf "[%%s]" "$@" > ${dir}/ARGS' sh %f %t %s %i %% 100%% x%fy`, spool, logs);
      sink.deliver(message(5, { from: 'carol', to: 'DAVE' }));
      await sink.drain();
      assert.deepEqual(logs, []);
      assert.equal(await readFile(join(dir, 'ARGS'), 'utf8'), `[carol][DAVE][${join(spool, 'message-5.txt')}][5][%][100%][xcaroly]`);
    });
  });

  test('HookSink substitutes a sender name with shell metacharacters sanitized, and keeps it exact in NETSEND_FROM', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const from = 'A;touch PWNED';
      const to = '$(touch PWNED2)`touch PWNED3`';
      const sink = hook(`/bin/sh -c 'cd ${dir} && echo %f %t > NAMES; printf "%%s\\n%%s" "$NETSEND_FROM" "$NETSEND_TO" > ENV'`, spool, logs);
      sink.deliver(message(1, { from, to }));
      await sink.drain();
      assert.deepEqual(logs, []);
      assert.equal(await readFile(join(dir, 'NAMES'), 'utf8'), 'A_touch_PWNED __touch_PWNED2__touch_PWNED3_\n');
      assert.equal(await readFile(join(dir, 'ENV'), 'utf8'), `${from}\n${to}`);
      for (const name of ['PWNED', 'PWNED2', 'PWNED3']) assert.equal(existsSync(join(dir, name)), false, `${name} was created`);
      assert.equal(existsSync(join(process.cwd(), 'PWNED')), false);
    });
  });

  test('HookSink writes the text on the command stdin', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const sink = hook(`/bin/sh -c 'cat > ${dir}/STDIN'`, spool, logs);
      const text = 'line 1\nline 2\n\u0000binary-ish ✓';
      sink.deliver(message(3, { text }));
      await sink.drain();
      assert.deepEqual(logs, []);
      assert.equal(await readFile(join(dir, 'STDIN'), 'utf8'), text);
    });
  });

  test('HookSink removes the message file after the command, whether it succeeded or failed', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const sink = hook(`/bin/sh -c 'test -f "$NETSEND_MESSAGE_FILE" && touch ${dir}/SEEN-%i; exit %i'`, spool, logs);
      sink.deliver(message(0));
      sink.deliver(message(7));
      await sink.drain();
      assert.ok(existsSync(join(dir, 'SEEN-0')) && existsSync(join(dir, 'SEEN-7')), 'the file existed while the command ran');
      assert.deepEqual(await readdir(spool), [], 'no message file is left in the spool');
      assert.deepEqual(logs, ['message command for message 7 failed: Error: exited with 7']);
    });
  });
});

describe('HookSink when the command fails or hangs', () => {
  test('HookSink logs a failing command with its exit code and stderr', async () => {
    await withDir(async (_dir, spool) => {
      const logs: string[] = [];
      const sink = hook(`/bin/sh -c 'echo "no display" >&2; exit 3'`, spool, logs);
      sink.deliver(message(9));
      await sink.drain();
      assert.deepEqual(logs, ['message command for message 9 failed: Error: exited with 3: no display']);
    });
  });

  test('HookSink logs a program that does not exist, and drain still resolves', async () => {
    await withDir(async (_dir, spool) => {
      const logs: string[] = [];
      const sink = hook('/nonexistent/notify %f', spool, logs);
      sink.deliver(message(4));
      await sink.drain();
      assert.equal(logs.length, 1);
      assert.match(logs[0] ?? '', /^message command for message 4 failed: Error: spawn \/nonexistent\/notify ENOENT/);
      assert.deepEqual(await readdir(spool), []);
    });
  });

  test('HookSink kills a command that runs past timeoutMs with everything it started, logs it, and drain resolves', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const pidFile = join(dir, 'child.pid');
      const sink = hook(`/bin/sh -c 'sleep 30 & echo $! > ${pidFile}; wait'`, spool, logs, { timeoutMs: 200 });
      const started = Date.now();
      sink.deliver(message(1));
      await sink.drain();
      const took = Date.now() - started;
      assert.ok(took >= 150 && took < 3000, `drain took ${took} ms (the slot must not be held by what the command left running)`);
      assert.deepEqual(logs, ['message command for message 1 failed: Error: killed after 200 ms']);
      assert.deepEqual(await readdir(spool), [], 'the message file is removed after a kill too');
      const pid = Number(await readFile(pidFile, 'utf8'));
      assert.ok(await stopsRunning(pid), `the grandchild (sleep 30, pid ${pid}) is killed too`);
    });
  });

  test('a command that exits 0 but leaves work running (cmd &) keeps its slot until the timeout, which ends that work and says so', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const pidFile = join(dir, 'child.pid');
      const sink = hook(`/bin/sh -c 'sleep 30 & echo $! > ${pidFile}; exit 0'`, spool, logs, { timeoutMs: 300 });
      sink.deliver(message(1));
      await sink.drain();
      assert.deepEqual(logs, ['message command for message 1 failed: Error: exited 0, but what it left running in the background was ended after 300 ms']);
      const pid = Number(await readFile(pidFile, 'utf8'));
      assert.ok(await stopsRunning(pid), `the background job (sleep 30, pid ${pid}) is ended`);
    });
  });
});

describe('HookSink queue and concurrency', () => {
  test('HookSink with concurrency 1 and maxQueued 2 runs three messages and skips the rest with a log line', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const sink = hook(`/bin/sh -c 'echo %i >> ${dir}/RAN; sleep 0.1'`, spool, logs, { concurrency: 1, maxQueued: 2 });
      for (let id = 1; id <= 5; id++) sink.deliver(message(id));
      await sink.drain();
      assert.deepEqual(logs, ['message command: queue full (2); skipped for message 4', 'message command: queue full (2); skipped for message 5']);
      assert.equal(await readFile(join(dir, 'RAN'), 'utf8'), '1\n2\n3\n', 'one running and two queued, in order');
    });
  });

  test('HookSink with concurrency 2 runs two commands at the same time', async () => {
    await withDir(async (dir, spool) => {
      const logs: string[] = [];
      const marks = join(dir, 'marks');
      const wait = `mkdir -p ${marks}; touch ${marks}/%i; n=0; while [ $(ls ${marks} | wc -l) -lt 2 ] && [ $n -lt 100 ]; do sleep 0.02; n=$((n+1)); done; ls ${marks} | wc -l > ${dir}/SEEN-%i`;
      const sink = hook(`/bin/sh -c '${wait}'`, spool, logs, { concurrency: 2, maxQueued: 10 });
      sink.deliver(message(1));
      sink.deliver(message(2));
      await sink.drain();
      assert.deepEqual(logs, []);
      assert.equal((await readFile(join(dir, 'SEEN-1'), 'utf8')).trim(), '2');
      assert.equal((await readFile(join(dir, 'SEEN-2'), 'utf8')).trim(), '2');
    });
  });
});
