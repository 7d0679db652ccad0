/** The logon gate (logon-gate.ts): per address, per account with a growing wait, bounded hashing, a brief memory of right passwords. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Principal } from './access.js';
import type { AccountChange, Credentials } from './accounts.js';
import type { AuditEntry } from './audit.js';
import { LogonGate } from './logon-gate.js';

/** Accounts with one user, alice / right, whose password checks take `delayMs` and are counted. */
function fakeAccounts(delayMs = 0) {
  const watchers: Array<(user: string, change: AccountChange) => void> = [];
  const counts = { checks: 0, running: 0, most: 0 };
  const principal = (source: string | null): Principal => ({ kind: 'user', name: 'alice', uid: null, groups: ['Server Operators'], source });
  return {
    counts,
    changed: (user: string, change: AccountChange) => watchers.forEach((w) => w(user, change)),
    accounts: {
      async authenticate(credentials: Credentials, source: string | null): Promise<Principal | null> {
        counts.checks++;
        counts.running++;
        counts.most = Math.max(counts.most, counts.running);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        counts.running--;
        if ('token' in credentials) return credentials.token === 'good-token' ? principal(source) : null;
        return credentials.user === 'alice' && credentials.password === 'right' ? principal(source) : null;
      },
      async passwordHolder(name: string, source: string | null) {
        return name === 'alice' ? principal(source) : null;
      },
      watch(watcher: (user: string, change: AccountChange) => void) {
        watchers.push(watcher);
        return () => {};
      },
    },
  };
}

const wrong = { user: 'alice', password: 'wrong' };
const right = { user: 'alice', password: 'right' };

test('guesses from twenty addresses still meet one budget per account: past 10 failures the account waits, doubling, audited', async () => {
  let now = 0;
  const audit: AuditEntry[] = [];
  const { accounts } = fakeAccounts();
  const gate = new LogonGate({ accounts, audit: { record: (e) => audit.push(e) }, now: () => now });
  for (let i = 0; i < 10; i++) await assert.rejects(gate.logon(wrong, `10.0.0.${i % 20}:5000`, 'web'), /incorrect/);
  await assert.rejects(gate.logon(wrong, '10.0.0.99:5000', 'web'), /incorrect/, 'the 11th failure is checked, and sets a wait');
  await assert.rejects(gate.logon(right, '10.0.0.98:5000', 'web'), { status: 5, message: /Too many failed logons for this account; wait and try again/ });
  now += 2100;
  const principal = await gate.logon(right, '10.0.0.98:5000', 'web');
  assert.equal(principal.name, 'alice', 'after the wait, the right password gets in and clears the count');
  assert.ok(audit.some((e) => e.event === 'refused-logon' && e.detail === 'web: account held back' && e.principal === 'user alice'));
});

test('the right password, once checked, is not hashed again for a minute; a password change forgets it', async () => {
  let now = 0;
  const fake = fakeAccounts();
  const gate = new LogonGate({ accounts: fake.accounts, audit: { record: () => {} }, now: () => now });
  for (let i = 0; i < 5; i++) await gate.logon(right, '127.0.0.1:1', 'web');
  assert.equal(fake.counts.checks, 1);
  now += 61_000;
  await gate.logon(right, '127.0.0.1:1', 'web');
  assert.equal(fake.counts.checks, 2, 'checked again after a minute');
  fake.changed('ALICE', 'password');
  await gate.logon(right, '127.0.0.1:1', 'web');
  assert.equal(fake.counts.checks, 3, 'checked again after the password changed');
  await assert.rejects(gate.logon(wrong, '127.0.0.1:1', 'web'), /incorrect/, 'a wrong password is never taken from the memory');
});

test('at most two password checks run at once; past 32 waiting, a logon is refused as busy at once', async () => {
  const fake = fakeAccounts(20);
  const gate = new LogonGate({ accounts: fake.accounts, audit: { record: () => {} }, limits: { addressBurst: 1000 } });
  const outcomes = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => gate.logon({ user: `user${i}`, password: 'x' }, '10.0.0.1:1', 'secure channel')));
  assert.equal(fake.counts.most, 2);
  const busy = outcomes.filter((o) => o.status === 'rejected' && /Too many logons at once/.test(String(o.reason.message))).length;
  assert.equal(busy, 60 - 2 - 32);
});

test('per address: a burst of 10 attempts, given back on success; tokens pass the same gate', async () => {
  const { accounts } = fakeAccounts();
  const gate = new LogonGate({ accounts, audit: { record: () => {} }, now: () => 0 });
  for (let i = 0; i < 10; i++) await assert.rejects(gate.logon({ token: `guess${i}` }, '10.0.0.5:1', 'web'), /incorrect/);
  await assert.rejects(gate.logon({ token: 'good-token' }, '10.0.0.5:2', 'web'), /Too many logon attempts from this address/);
  assert.equal((await gate.logon({ token: 'good-token' }, '10.0.0.6:1', 'web')).name, 'alice');
});

test('a password changed while it is being checked is not remembered: the old one must not pass for a minute', async () => {
  const fake = fakeAccounts(30);
  const gate = new LogonGate({ accounts: fake.accounts, audit: { record: () => {} } });
  const checking = gate.logon(right, '127.0.0.1:1', 'web');
  await new Promise((resolve) => setTimeout(resolve, 10));
  fake.changed('alice', 'password'); // lands while scrypt runs on the old hash
  await checking;
  await gate.logon(right, '127.0.0.1:1', 'web');
  assert.equal(fake.counts.checks, 2, 'the second logon was checked against the store, not taken from memory');
});

test('an account\'s failures are forgotten one for each quiet longest wait', async () => {
  let now = 0;
  const { accounts } = fakeAccounts();
  const gate = new LogonGate({ accounts, audit: { record: () => {} }, now: () => now });
  for (let i = 0; i < 9; i++) await assert.rejects(gate.logon(wrong, '10.0.0.1:1', 'web'));
  now += 10 * 16 * 60_000; // one failure is forgotten for each quiet 15 minutes
  for (let i = 0; i < 11; i++) await assert.rejects(gate.logon(wrong, `10.0.1.${i}:1`, 'web'), /incorrect/);
  await assert.rejects(gate.logon(right, '10.0.2.1:1', 'web'), /Too many failed logons/, 'a fresh allowance of ten, and the eleventh failure sets the wait');
});

test('waiting out the longest hold buys no fresh allowance: a patient guesser gets about four passwords an hour checked', async () => {
  let now = 0;
  const { accounts } = fakeAccounts();
  const gate = new LogonGate({ accounts, audit: { record: () => {} }, now: () => now, limits: { addressBurst: 1_000_000 } });
  let checked = 0;
  // a simulated day: each minute it is held it tries again; otherwise every second
  for (let attempt = 0; attempt < 200_000 && now < 24 * 3600_000; attempt++) {
    const refusal = await gate.logon(wrong, '10.9.0.1:1', 'web').then(() => 'in', (error: Error) => error.message);
    if (/incorrect/.test(refusal)) checked++;
    now += /Too many failed logons/.test(refusal) ? 60_000 : 1000;
  }
  // 10 free, about 11 while the wait doubles from 1 s to its 15-minute cap, then one per 15 minutes
  assert.ok(checked <= 10 + 11 + 24 * 4 + 2, `${checked} passwords checked in a day`);
});
