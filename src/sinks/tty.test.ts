/** The write(1)-style terminal sink (tty.ts) against real pseudo-terminals (test/helpers/pty.ts). */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Pty, ptyUnavailable } from '../../test/helpers/pty.js';
import { classicHeader, type StoredMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { TtySink, renderForTty, type TtyOptions } from './tty.js';

const RECEIVED_AT = new Date(2026, 10, 25, 10, 31, 5);

const message = (id: number, fields: Partial<StoredMessage> = {}): StoredMessage => ({
  id, from: 'BOB', to: 'ALICE', text: `text ${id}`, via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }), receivedAt: RECEIVED_AT, ...fields,
});

function sink(ttys: Record<string, readonly string[]>, logs: string[], options: Partial<TtyOptions> = {}): TtySink {
  return new TtySink({ ttysOf: (alias) => ttys[alias] ?? [], timeoutMs: 2000, log: (line) => logs.push(line), ...options });
}

test('priorities change how insistent a terminal message is: no bell for low, three and a mark for urgent', () => {
  const header = classicHeader(message(1));
  assert.ok(renderForTty(message(1, { priority: 'low' })).startsWith(`\r\n${header}`));
  assert.ok(renderForTty(message(1)).startsWith(`\r\n\u0007${header}`));
  assert.ok(renderForTty(message(1, { priority: 'high' })).startsWith(`\r\n\u0007IMPORTANT ${header}`));
  assert.ok(renderForTty(message(1, { priority: 'urgent' })).startsWith(`\r\n\u0007\u0007\u0007URGENT ${header}`));
});

test('renderForTty is the pop-up header with the id, who really sent it, a blank line and the text, every line ending CRLF', () => {
  assert.equal(
    renderForTty(message(1, { text: 'lunch\nis here\r\nnow' })),
    "\r\n\u0007Message from BOB to ALICE on 11/25/2026 10:31:05 AM  [id 1]\r\n(unverified: came over the legacy SMB wire; the sender's name is not proven)\r\n\r\nlunch\r\nis here\r\nnow\r\n\r\n",
  );
  // a local user's message under another name says whose it is
  const local = message(3, { via: 'local', sender: senderOf({ uid: 1002, user: 'mallory' }), from: 'ROOT', text: 'hi' });
  assert.equal(renderForTty(local), '\r\n\u0007Message from ROOT to ALICE on 11/25/2026 10:31:05 AM  [id 3]\r\n(verified: sent by the local account mallory)\r\n\r\nhi\r\n\r\n');
});

test('renderForTty keeps control characters and line breaks in the names out of the header', () => {
  const rendered = renderForTty(message(2, { from: 'EVIL\u001b[2J\r\nFAKE', to: 'ALICE\u0007', text: 'hi' }));
  assert.equal(rendered, "\r\n\u0007Message from EVIL FAKE to ALICE on 11/25/2026 10:31:05 AM  [id 2]\r\n(unverified: came over the legacy SMB wire; the sender's name is not proven)\r\n\r\nhi\r\n\r\n");
});

test('a lookup that fails or throws is logged; deliver itself never throws', async () => {
  const logs: string[] = [];
  const failing = new TtySink({ ttysOf: () => Promise.reject(new Error('utmp unreadable')), timeoutMs: 100, log: (l) => logs.push(l) });
  const throwing = new TtySink({ ttysOf: () => { throw new Error('boom'); }, timeoutMs: 100, log: (l) => logs.push(l) });
  failing.deliver(message(1));
  throwing.deliver(message(2));
  await failing.drain();
  await throwing.drain();
  assert.deepEqual(logs.sort(), ['tty: message 1 to ALICE: Error: utmp unreadable', 'tty: message 2 to ALICE: Error: boom']);
});

test('a tty path that does not exist or is not a terminal is logged and skipped', async () => {
  const logs: string[] = [];
  const s = sink({ ALICE: ['/dev/pts/does-not-exist', '/etc/hostname'] }, logs);
  s.deliver(message(3));
  await s.drain();
  logs.sort(); // the two terminals are tried at once
  assert.equal(logs.length, 2, logs.join('\n'));
  assert.equal(logs[0], 'tty: /etc/hostname is not a terminal; message 3 skips it');
  assert.match(logs[1] ?? '', /cannot write message 3 to \/dev\/pts\/does-not-exist: .*ENOENT/);
});

test('/dev/null (a character device anyone may write to) is not a terminal: the message is not recorded shown there', async () => {
  const logs: string[] = [];
  const shown: string[] = [];
  const s = sink({ ALICE: ['/dev/null'] }, logs, { onShown: (_m, tty) => shown.push(tty) });
  s.deliver(message(4));
  await s.drain();
  assert.deepEqual(shown, []);
  assert.deepEqual(logs, ['tty: /dev/null is not a terminal; message 4 skips it']);
});

describe('on real pseudo-terminals', { skip: ptyUnavailable() ?? false }, () => {
  const ptys: Pty[] = [];
  after(() => Promise.all(ptys.map((p) => p.close())));
  const pty = async (mode: number, options: { hold?: boolean } = {}) => {
    const opened = await Pty.open(mode, options);
    ptys.push(opened);
    return opened;
  };

  test('the message reaches every terminal of the user where messages are on (mesg y), and none where they are off (mesg n)', async () => {
    const [on1, on2, off] = [await pty(0o620), await pty(0o620), await pty(0o600)];
    const logs: string[] = [];
    const s = sink({ ALICE: [on1.path, off.path, on2.path], CAROL: [] }, logs);
    s.deliver(message(7, { text: 'lunch is here\nin the kitchen' }));
    await s.drain();
    const expected = `${classicHeader(message(7))}  [id 7]\r\n(unverified: came over the legacy SMB wire; the sender's name is not proven)\r\n\r\nlunch is here\r\nin the kitchen\r\n`;
    await on1.waitFor(expected);
    await on2.waitFor(expected);
    await new Promise((resolve) => setTimeout(resolve, 300)); // as long again for anything late
    assert.equal(off.output, '', 'a terminal with mesg n shows nothing');
    assert.deepEqual(logs, []);
  });

  test('escape sequences and control characters from the sender never reach the terminal', async () => {
    const term = await pty(0o620);
    const s = sink({ ALICE: [term.path] }, []);
    s.deliver(message(8, { text: 'hi\u001b[2J\u001b]0;pwned\u0007 there\u0008\u009b!' }));
    await s.drain();
    await term.waitFor('hi there!');
    assert.ok(!term.output.includes('\u001b'), JSON.stringify(term.output));
    assert.ok(!term.output.includes('pwned'), JSON.stringify(term.output));
    assert.equal(term.output.split('\u0007').length, 2, 'only our own bell');
  });

  test('messages to one terminal arrive whole and in order', async () => {
    const term = await pty(0o620);
    const s = sink({ ALICE: [term.path] }, []);
    const long = (n: number) => `${n}:` + 'x'.repeat(5000);
    for (let id = 1; id <= 5; id++) s.deliver(message(id, { text: long(id) }));
    await s.drain();
    await term.waitFor(long(5));
    const order = [...term.output.matchAll(/(\d):x{5000}\r\n/g)].map((m) => m[1]);
    assert.deepEqual(order, ['1', '2', '3', '4', '5']);
  });

  test('a terminal nobody reads is skipped after the timeout instead of holding up delivery', async () => {
    const stuck = await pty(0o620, { hold: true });
    const fine = await pty(0o620);
    const logs: string[] = [];
    // generous for the reading terminal: the suite runs beside other tests on two cores
    const s = sink({ ALICE: [stuck.path, fine.path] }, logs, { timeoutMs: 1500 });
    const started = Date.now();
    s.deliver(message(9, { text: 'y'.repeat(256 * 1024) }));
    await s.drain();
    const took = Date.now() - started;
    assert.ok(took < 4000, `took ${took} ms`);
    assert.deepEqual(logs, [`tty: ${stuck.path} took no more of message 9 within 1500 ms; skipped`]);
    await fine.waitFor(`${'y'.repeat(1000)}\r\n\r\n`);
  });

  test('past 8 messages waiting for one terminal, new ones skip it', async () => {
    const stuck = await pty(0o620, { hold: true });
    const logs: string[] = [];
    const s = sink({ ALICE: [stuck.path] }, logs, { timeoutMs: 100 });
    for (let id = 1; id <= 10; id++) s.deliver(message(id, { text: 'z'.repeat(256 * 1024) }));
    await s.drain();
    assert.deepEqual(logs.filter((l) => l.includes('waiting')), [
      `tty: ${stuck.path} has 8 messages waiting; message 9 skips it`,
      `tty: ${stuck.path} has 8 messages waiting; message 10 skips it`,
    ]);
  });
});
