/** The web inbox's logins: one-time tokens, session bounds, and the request checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handleRequest, type ControlServices } from '../control/handlers.js';
import { AccessPolicy, type Principal } from '../security/access.js';
import { WebAuth, cookieValue, headerCredentials, hostAllowed, originMatches } from './auth.js';

const owner: Principal = { kind: 'local', name: 'root', uid: 0, groups: ['Administrators'], source: null };
const alice: Principal = { kind: 'user', name: 'alice', uid: null, groups: [], source: '127.0.0.1' };
const bob: Principal = { kind: 'user', name: 'bob', uid: null, groups: [], source: '127.0.0.1' };

test('a one-time login token works once, and not after it expires', () => {
  let clock = 1_000;
  const auth = new WebAuth({ loginTokenLifetimeMs: 100 }, () => clock);
  const token = auth.mintLoginToken();
  assert.match(token, /^[\w-]{43}$/, '256 bits, URL-safe');
  assert.equal(auth.consumeLoginToken(token), true);
  assert.equal(auth.consumeLoginToken(token), false);
  const late = auth.mintLoginToken();
  clock += 101;
  assert.equal(auth.consumeLoginToken(late), false);
  assert.equal(auth.consumeLoginToken('made-up'), false);
});

test('sessions are bounded in time, and past the global bound a login is refused rather than ending another session', () => {
  let clock = 0;
  const auth = new WebAuth({ maxSessions: 2, sessionLifetimeMs: 1000 }, () => clock);
  const first = auth.createSession(owner, true);
  const second = auth.createSession(alice, false);
  assert.ok(first !== null && second !== null);
  assert.notEqual(first.session.csrf, second.session.csrf);
  assert.equal(auth.createSession(bob, false), null, 'full: refused');
  assert.equal(auth.session(first.id)?.owner, true, "nobody else's session was ended");
  assert.equal(auth.session(second.id)?.owner, false);
  clock = 1000;
  assert.equal(auth.session(second.id), null, 'expired');
  assert.equal(auth.session(undefined), null);
  assert.notEqual(auth.createSession(bob, false), null, 'room again once they expired');
});

test("one account logging in again and again ends only its own oldest sessions, not the owner's", () => {
  const auth = new WebAuth({ maxSessions: 256, maxSessionsPerAccount: 8 });
  const mine = auth.createSession(owner, true);
  const bobs = auth.createSession(bob, false);
  const alices = Array.from({ length: 300 }, () => auth.createSession(alice, false));
  assert.ok(mine !== null && bobs !== null && alices.every((s) => s !== null));
  assert.equal(auth.session(mine.id)?.owner, true, 'the owner is still logged in');
  assert.equal(auth.session(bobs.id)?.principal.name, 'bob', 'so is bob');
  const live = alices.filter((s) => s !== null && auth.session(s.id) !== null);
  assert.equal(live.length, 8, "alice holds her 8 newest sessions");
  assert.equal(live[0], alices[292]);
  // the account's name compares as the store compares it (ASCII case)
  assert.notEqual(auth.createSession({ ...alice, name: 'ALICE' }, false), null);
  assert.equal(auth.session((alices[292] as { id: string }).id), null, 'ALICE is alice');
});

test('a new password or a deleted account ends its sessions; new groups only mark them for a re-read', () => {
  const auth = new WebAuth();
  const a = auth.createSession(alice, false);
  const b = auth.createSession(bob, false);
  const o = auth.createSession({ ...owner, name: 'alice' }, true);
  assert.ok(a !== null && b !== null && o !== null);
  auth.accountChanged('Alice', 'groups');
  assert.equal(auth.session(a.id), a.session, 'still logged in after a change of groups');
  assert.equal(auth.changedSince('alice', a.session.checked), true, 'its groups are to be read again');
  assert.equal(auth.changedSince('bob', b.session.checked), false);
  auth.accountChanged('ALICE', 'password');
  assert.equal(auth.session(a.id), null, 'a new password logs her out');
  assert.equal(auth.isLive(a.session), false);
  assert.equal(auth.session(o.id)?.owner, true, "the owner's session is not the account's");
  auth.accountChanged('bob', 'deleted');
  assert.equal(auth.session(b.id), null, 'a deleted account is logged out');
  // a login whose password check began before the account was deleted does not outlive it
  const checkedAt = auth.tick;
  auth.accountChanged('carol', 'deleted');
  const late = auth.createSession({ ...alice, name: 'carol' }, false, checkedAt);
  assert.ok(late !== null);
  assert.equal(auth.session(late.id), null);
});

test('unused one-time tokens are bounded in number', () => {
  const auth = new WebAuth({ maxLoginTokens: 2 });
  const [a, b, c] = [auth.mintLoginToken(), auth.mintLoginToken(), auth.mintLoginToken()];
  assert.equal(auth.consumeLoginToken(a), false);
  assert.equal(auth.consumeLoginToken(b), true);
  assert.equal(auth.consumeLoginToken(c), true);
});

test('request checks: host names (DNS rebinding), Origin, cookies, Authorization', () => {
  const names = new Set(['localhost', 'myhost']);
  assert.equal(hostAllowed('127.0.0.1:8139', names), true);
  assert.equal(hostAllowed('[::1]:8139', names), true);
  assert.equal(hostAllowed('localhost:8139', names), true);
  assert.equal(hostAllowed('MyHost', names), true);
  assert.equal(hostAllowed('attacker.example:8139', names), false);
  assert.equal(hostAllowed(undefined, names), false);
  assert.equal(originMatches('http://127.0.0.1:8139', '127.0.0.1:8139'), true);
  assert.equal(originMatches('http://attacker.example', '127.0.0.1:8139'), false);
  assert.equal(originMatches(undefined, '127.0.0.1:8139'), false);
  assert.equal(cookieValue('a=1; netsend_8139=abc; b=2', 'netsend_8139'), 'abc');
  assert.equal(cookieValue('netsend_8140=abc', 'netsend_8139'), undefined);
  assert.deepEqual(headerCredentials('Bearer tok'), { token: 'tok' });
  assert.deepEqual(headerCredentials(`Basic ${Buffer.from('alice:pw:with:colons').toString('base64')}`), { user: 'alice', password: 'pw:with:colons' });
  assert.deepEqual(headerCredentials(`Basic ${Buffer.from(':tok').toString('base64')}`), { token: 'tok' }, "ntfy's -u :TOKEN");
  assert.equal(headerCredentials('Digest x'), 'malformed');
  assert.equal(headerCredentials(undefined), null);
});

test('web.url is for local administrators only: a remote Administrator is refused', async () => {
  const records: string[] = [];
  const services = {
    access: new AccessPolicy({ role: 'standalone server', remoteCallGroups: [] }),
    audit: { record: (entry: { event: string }) => records.push(entry.event) },
    web: { loginUrl: () => 'http://127.0.0.1:8139/#token=x' },
  } as unknown as ControlServices;
  assert.deepEqual(await handleRequest(services, { op: 'web.url' }, owner), { url: 'http://127.0.0.1:8139/#token=x' });
  const remoteAdmin: Principal = { kind: 'user', name: 'ops', uid: null, groups: ['Administrators'], source: '10.0.0.5:5000' };
  await assert.rejects(handleRequest(services, { op: 'web.url' }, remoteAdmin), /only given to a local administrator/);
  const localUser: Principal = { kind: 'local', name: 'carol', uid: 1001, groups: [], source: null };
  await assert.rejects(handleRequest(services, { op: 'web.url' }, localUser), /Only Administrators/);
});
