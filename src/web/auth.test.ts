/** The web inbox's logins: one-time tokens, session bounds, and the request checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handleRequest, type ControlServices } from '../control/handlers.js';
import { AccessPolicy, type Principal } from '../security/access.js';
import { WebAuth, cookieValue, headerCredentials, hostAllowed, originMatches } from './auth.js';

const owner: Principal = { kind: 'local', name: 'root', uid: 0, groups: ['Administrators'], source: null };

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

test('sessions are bounded in number (the oldest goes) and in time', () => {
  let clock = 0;
  const auth = new WebAuth({ maxSessions: 2, sessionLifetimeMs: 1000 }, () => clock);
  const first = auth.createSession(owner, true);
  const second = auth.createSession(owner, true);
  assert.notEqual(first.session.csrf, second.session.csrf);
  const third = auth.createSession(owner, false);
  assert.equal(auth.session(first.id), null, 'the oldest session made room');
  assert.equal(auth.session(second.id)?.owner, true);
  assert.equal(auth.session(third.id)?.owner, false);
  clock = 1000;
  assert.equal(auth.session(second.id), null, 'expired');
  assert.equal(auth.session(undefined), null);
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
