/** The pop-up header and the terminal-safe text (message.ts). Dates are built in local time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_TITLE_CHARACTERS, checkTitle, classicHeader, isTitleAsSent, messageToJson, senderNote, printableText, type StoredMessage } from './message.js';
import { NetApiError } from './errors.js';
import { senderOf, type Sender } from './sender.js';

const header = (receivedAt: Date, from = 'BOB', to = 'ALICE') => classicHeader({ from, to, receivedAt });

test('classicHeader formats "Message from BOB to ALICE on 11/25/2026 10:31:05 AM" in local time', () => {
  assert.equal(header(new Date(2026, 10, 25, 10, 31, 5)), 'Message from BOB to ALICE on 11/25/2026 10:31:05 AM');
});

test('classicHeader shows midnight as 12 AM and noon as 12 PM', () => {
  assert.equal(header(new Date(2026, 0, 1, 0, 0, 0)), 'Message from BOB to ALICE on 1/1/2026 12:00:00 AM');
  assert.equal(header(new Date(2026, 0, 1, 0, 59, 59)), 'Message from BOB to ALICE on 1/1/2026 12:59:59 AM');
  assert.equal(header(new Date(2026, 5, 30, 12, 0, 0)), 'Message from BOB to ALICE on 6/30/2026 12:00:00 PM');
});

test('classicHeader shows afternoon hours on the 12-hour clock: 13:05:09 → 1:05:09 PM, 23:59:59 → 11:59:59 PM', () => {
  assert.equal(header(new Date(2026, 10, 25, 13, 5, 9)), 'Message from BOB to ALICE on 11/25/2026 1:05:09 PM');
  assert.equal(header(new Date(2026, 11, 31, 23, 59, 59)), 'Message from BOB to ALICE on 12/31/2026 11:59:59 PM');
  assert.equal(header(new Date(2026, 11, 31, 11, 59, 59)), 'Message from BOB to ALICE on 12/31/2026 11:59:59 AM');
});

test('classicHeader gives any date month/day/year h:mm:ss AM|PM, hour 1-12, AM before noon', () => {
  fc.assert(
    fc.property(fc.date({ min: new Date(1980, 0, 1), max: new Date(2100, 0, 1), noInvalidDate: true }), (date) => {
      const match = /^Message from BOB to ALICE on (\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d\d):(\d\d) (AM|PM)$/.exec(header(date));
      assert.ok(match, header(date));
      const [month, day, year, hour, minute, second, half] = match.slice(1);
      assert.equal(Number(month), date.getMonth() + 1);
      assert.equal(Number(day), date.getDate());
      assert.equal(Number(year), date.getFullYear());
      assert.ok(Number(hour) >= 1 && Number(hour) <= 12);
      assert.equal(Number(hour) % 12, date.getHours() % 12);
      assert.equal(Number(minute), date.getMinutes());
      assert.equal(Number(second), date.getSeconds());
      assert.equal(half, date.getHours() < 12 ? 'AM' : 'PM');
    }),
    { numRuns: 500 },
  );
});

test('printableText keeps line breaks and tabs, and turns CRLF and a lone CR into LF', () => {
  assert.equal(printableText('line 1\r\nline 2\rline 3\n\tindented'), 'line 1\nline 2\nline 3\n\tindented');
  assert.equal(printableText('a\r\r\nb'), 'a\n\nb');
  assert.equal(printableText('Grüße, 世界 😀'), 'Grüße, 世界 😀', 'printable text is untouched');
});

test('printableText drops control characters: NUL, bell, backspace, ESC, DEL and the C1 range', () => {
  assert.equal(printableText('a\u0000b\u0007c\u0008d\u000be\u000cf\u001bg\u007fh\u0080i\u009bj\u009fk'), 'abcdefghijk');
  assert.equal(printableText('\u001b[2J\u001b[H'), '', 'no escape sequence survives, so the screen cannot be cleared');
  assert.equal(printableText('\u001b]0;owned\u0007'), '', 'nor the title set');
});

test(
  'printableText removes a whole escape sequence, not only its ESC',
  () => {
    assert.equal(printableText('\u001b[31mred\u001b[0m'), 'red');
    assert.equal(printableText('\u001b]0;title\u0007text'), 'text');
  },
);

test('printableText output never holds a control character other than LF and TAB, and is idempotent', () => {
  const anyText = fc.string({ maxLength: 80, unit: fc.oneof(fc.integer({ min: 0, max: 0xa0 }).map((c) => String.fromCharCode(c)), fc.constantFrom('\r\n', 'é', '😀')) });
  fc.assert(
    fc.property(anyText, (text) => {
      const shown = printableText(text);
      assert.doesNotMatch(shown, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      assert.equal(printableText(shown), shown);
    }),
    { numRuns: 1000 },
  );
});

test('messageToJson gives id, from, to, text, receivedAt (ISO), via and whether the sender is verified, and no uid or address', () => {
  const message: StoredMessage = {
    id: 7, from: 'BOB', to: 'ALICE', text: 'hi', via: 'smb', sender: senderOf({ uid: 1000, address: '10.0.0.9', port: 40000 }), receivedAt: new Date('2026-11-25T10:31:05.000Z'),
  };
  assert.deepEqual(messageToJson(message), {
    id: 7, from: 'BOB', to: 'ALICE', text: 'hi', receivedAt: '2026-11-25T10:31:05.000Z', via: 'smb', verified: false, priority: 'normal',
    provenance: "unverified: came over the legacy SMB wire; the sender's name is not proven",
  });
});

test('senderNote says who really sent a message: the local account behind any "from", a remote account, a netsend host, or that the legacy wire proves nothing', () => {
  const base = { from: 'ROOT', sender: senderOf({ uid: 1002, user: 'mallory' }) } as const;
  const by = (fields: Partial<Sender>) => ({ sender: { ...base.sender, ...fields } });
  assert.equal(senderNote({ ...base, via: 'local' }), 'verified: sent by the local account mallory');
  assert.equal(senderNote({ ...base, via: 'local', from: 'MALLORY' }), null, 'a user sending as their own login name needs no note');
  assert.equal(senderNote({ ...base, via: 'local', ...by({ user: null }) }), 'verified: sent by the local account with uid 1002');
  assert.equal(senderNote({ ...base, via: 'local', ...by({ uid: null, user: null }) }), 'verified: sent on this host');
  assert.equal(senderNote({ ...base, via: 'local', ...by({ uid: null, user: 'ops', address: '10.0.0.5', port: 4000 }) }), 'verified: sent by the account ops, by a remote call');
  assert.equal(senderNote({ ...base, via: 'netsend', ...by({ uid: null, user: 'bob', host: { name: 'HOSTB', fingerprint: 'SHA256:abc' } }) }), 'verified: sent by bob on HOSTB, host key SHA256:abc');
  assert.equal(senderNote({ ...base, via: 'mailslot', ...by({ uid: null }) }), "unverified: came over the legacy mailslot wire; the sender's name is not proven");
  assert.equal(senderNote({ ...base, via: 'local', ...by({ user: 'evil\u001b[2Jname' }) }), 'verified: sent by the local account evilname', 'names are printable');
});

test('checkTitle: none when absent or blank; one line of at most 256 characters, trimmed; anything else is ERROR_INVALID_PARAMETER', () => {
  for (const none of [undefined, null, '', '   ']) assert.equal(checkTitle(none), undefined);
  assert.equal(checkTitle('  Grüße 🍕 '), 'Grüße 🍕');
  assert.equal(checkTitle('x'.repeat(MAX_TITLE_CHARACTERS)), 'x'.repeat(MAX_TITLE_CHARACTERS));
  for (const bad of [7, 'x'.repeat(MAX_TITLE_CHARACTERS + 1), 'two\nlines', 'tab\there', 'bell\u0007', 'lone \ud800']) {
    assert.throws(() => checkTitle(bad), (error: unknown) => error instanceof NetApiError && error.statusName === 'ERROR_INVALID_PARAMETER', JSON.stringify(bad));
  }
  assert.equal(isTitleAsSent('Backup'), true);
  assert.equal(isTitleAsSent(' Backup'), false, 'a peer sends titles as its own rule left them');
  assert.equal(isTitleAsSent('a\nb'), false);
});
