/**
 * Logging in and out of the web inbox, in-process: one-time links, passwords, the session and
 * stream caps, and the proof (CSRF token, Origin) every change from a page must carry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basic, COOKIE, fakeWeb, login, ORIGIN, ownerLogin, type FakeWeb } from './fakes.test.helper.js';

const postLogin = (web: FakeWeb, body: unknown, headers: Record<string, string> = { origin: ORIGIN, 'content-type': 'application/json' }, remoteAddress?: string) =>
  web.inject({ method: 'POST', url: '/api/login', headers, payload: JSON.stringify(body), ...(remoteAddress === undefined ? {} : { remoteAddress }) });

test("a one-time login link logs the owner in once: an HttpOnly, SameSite=Strict cookie bounded in time; the second use is refused and audited", async () => {
  const web = await fakeWeb();
  const token = web.context.auth.mintLoginToken();
  const first = await postLogin(web, { token });
  assert.equal(first.statusCode, 200);
  assert.match(String(first.headers['set-cookie']), new RegExp(`^${COOKIE}=[\\w-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$`));
  const body = first.json() as { user: string; owner: boolean; csrf: string };
  assert.deepEqual([body.user, body.owner], ['root', true]);
  assert.match(body.csrf, /^[\w-]{43}$/);
  const again = await postLogin(web, { token });
  assert.equal(again.statusCode, 401);
  assert.deepEqual(again.json(), { status: 5, name: 'ERROR_ACCESS_DENIED', message: 'This login link was already used or has expired: ask for a new one with "netsend web url".' });
  assert.deepEqual(web.audit.at(-1), { event: 'refused-logon', principal: 'one-time login', source: '127.0.0.1', detail: 'web: the login link was used or has expired', status: 5 });
});

test('a password logs an account in; a wrong one, a login from another page, a form post or a body without credentials does not', async () => {
  const web = await fakeWeb();
  const alice = await postLogin(web, { user: 'alice', password: 'alice-pw' });
  assert.deepEqual([alice.statusCode, (alice.json() as { owner: boolean }).owner], [200, false]);
  const wrong = await postLogin(web, { user: 'alice', password: 'nope' });
  assert.deepEqual([wrong.statusCode, wrong.json()], [401, { status: 5, name: 'ERROR_ACCESS_DENIED', message: 'The user name, password or token is incorrect.' }]);
  const elsewhere = await postLogin(web, { user: 'alice', password: 'alice-pw' }, { origin: 'http://attacker.example', 'content-type': 'application/json' });
  assert.equal(elsewhere.statusCode, 403);
  assert.match((elsewhere.json() as { message: string }).message, /Origin does not match Host/);
  assert.equal((await postLogin(web, { user: 'alice', password: 'alice-pw' }, { 'content-type': 'application/json' })).statusCode, 403, 'no Origin');
  const form = await postLogin(web, { user: 'alice', password: 'alice-pw' }, { origin: ORIGIN, 'content-type': 'text/plain' });
  assert.deepEqual([form.statusCode, (form.json() as { status: number }).status], [415, 87]);
  for (const body of [{}, { user: 'alice' }, { user: 1, password: 2 }]) {
    assert.equal((await postLogin(web, body)).statusCode, 400, JSON.stringify(body));
  }
  for (const payload of ['{', '[]', 'null']) {
    const response = await web.inject({ method: 'POST', url: '/api/login', headers: { origin: ORIGIN, 'content-type': 'application/json' }, payload });
    assert.equal(response.statusCode, 400, payload);
  }
});

test('one-time login guesses are charged to the address like passwords: after the burst, 429 for that address only', async () => {
  const web = await fakeWeb();
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await postLogin(web, { token: `guess-${i}` }, undefined, '10.0.0.9')).statusCode);
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
  const held = await postLogin(web, { token: web.context.auth.mintLoginToken() }, undefined, '10.0.0.9');
  assert.deepEqual(held.json(), { status: 5, name: 'ERROR_ACCESS_DENIED', message: 'Too many logon attempts from this address; wait and try again.' });
  assert.equal(held.headers['retry-after'], undefined, 'the web says wait in words; Retry-After is the front door rate limit');
  assert.equal((await postLogin(web, { token: web.context.auth.mintLoginToken() }, undefined, '10.0.0.10')).statusCode, 200, 'another address is not held back');
  assert.ok(web.audit.every((entry) => entry.event === 'refused-logon' && entry.source === '10.0.0.9'), 'audited per address, not per connection');
});

test('sessions are capped: past the global bound a login is refused (503), one account keeps only its newest sessions', async () => {
  const web = await fakeWeb({ authLimits: { maxSessions: 3, maxSessionsPerAccount: 2 } });
  const first = await login(web, { user: 'alice', password: 'alice-pw' });
  const second = await login(web, { user: 'alice', password: 'alice-pw' });
  const third = await login(web, { user: 'alice', password: 'alice-pw' });
  assert.equal((await first.get('/api/session')).statusCode, 401, "alice's oldest session made room for her newest");
  assert.deepEqual([(await second.get('/api/session')).statusCode, (await third.get('/api/session')).statusCode], [200, 200]);
  await login(web, { user: 'bob', password: 'bob-pw' });
  const full = await postLogin(web, { user: 'monitor', password: 'monitor-pw' });
  assert.equal(full.statusCode, 503);
  assert.deepEqual(full.json(), { status: 8, name: 'ERROR_NOT_ENOUGH_MEMORY', message: 'Too many web sessions are open on this server; try again later.' });
  assert.equal(full.headers['set-cookie'], undefined);
  assert.equal((await second.get('/api/session')).statusCode, 200, "nobody else's session was ended for it");
});

test('live streams are capped per session: past it the page is told so (429, status 8), not given a stream', async () => {
  const web = await fakeWeb({ pushLimits: { maxPerSession: 0 } });
  const owner = await ownerLogin(web);
  const response = await owner.get('/api/events');
  assert.deepEqual([response.statusCode, response.json()], [429, { status: 8, name: 'ERROR_NOT_ENOUGH_MEMORY', message: 'Too many open inbox pages; close some.' }]);
  assert.equal((await web.inject({ method: 'GET', url: '/api/events' })).statusCode, 401, 'a stream needs a login first');
  assert.equal(web.context.push.size, 0);
});

test('the session tells the page who it is logged in as and what it may do', async () => {
  const web = await fakeWeb();
  const owner = await ownerLogin(web);
  assert.deepEqual((await owner.get('/api/session')).json(), {
    user: 'root', owner: true, admin: true, csrf: owner.csrf, computerName: 'INBOX', workgroup: 'WORKGROUP', from: 'INBOX', canSend: true, sendProblem: null, canManageAliases: true, maxMessageBytes: 256,
  });
  const alice = await login(web, { user: 'alice', password: 'alice-pw' });
  const mine = (await alice.get('/api/session')).json() as Record<string, unknown>;
  assert.deepEqual([mine.user, mine.owner, mine.admin, mine.from, mine.canSend, mine.canManageAliases], ['alice', false, false, 'ALICE', false, false]);
  // why not, in the access rules' words (the page shows it where the compose box would be)
  assert.equal(mine.sendProblem, 'Remote calls on a standalone server need membership in Administrators or Server Operators.');
  assert.equal(mine.sendProblem, web.context.services.access.problem({ kind: 'user', name: 'alice', uid: null, groups: [], source: null }, 'send'));
  const api = await web.inject({ method: 'GET', url: '/api/session', headers: { authorization: 'Bearer monitor-token' } });
  assert.deepEqual(
    [(api.json() as { user: string }).user, (api.json() as { csrf: unknown }).csrf, (api.json() as { canSend: boolean }).canSend, (api.json() as { sendProblem: unknown }).sendProblem],
    ['monitor', null, true, null],
  );
  const none = await web.inject({ method: 'GET', url: '/api/session' });
  assert.deepEqual([none.statusCode, (none.json() as { status: number }).status], [401, 5]);
  assert.equal((await web.inject({ method: 'GET', url: '/api/session', headers: { authorization: 'Digest x' } })).statusCode, 400);
  assert.equal((await web.inject({ method: 'GET', url: '/api/session', headers: { authorization: 'Bearer nope' } })).statusCode, 401);
});

test('an account that changes is not trusted on its old login: new groups are read again, a new password logs it out', async () => {
  const web = await fakeWeb();
  const alice = await login(web, { user: 'alice', password: 'alice-pw' });
  (web.accounts.alice as { groups: string[] }).groups = ['Administrators'];
  assert.equal(((await alice.get('/api/session')).json() as { admin: boolean }).admin, false, 'read at login');
  web.context.auth.accountChanged('alice', 'groups');
  assert.equal(((await alice.get('/api/session')).json() as { admin: boolean }).admin, true, 'read again after the change');
  web.context.auth.accountChanged('ALICE', 'password');
  assert.equal((await alice.get('/api/session')).statusCode, 401);
});

test('logging out ends the session and clears the cookie; it needs the CSRF token like every change', async () => {
  const web = await fakeWeb();
  const alice = await login(web, { user: 'alice', password: 'alice-pw' });
  assert.equal((await alice.send('POST', '/api/logout', {}, { 'x-csrf-token': undefined })).statusCode, 403);
  assert.equal((await alice.get('/api/session')).statusCode, 200, 'a forged logout changes nothing');
  const out = await alice.send('POST', '/api/logout');
  assert.deepEqual([out.statusCode, out.json(), out.headers['set-cookie']], [200, { loggedOut: true }, `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`]);
  assert.equal((await alice.get('/api/session')).statusCode, 401);
});

/** Every change a page can make, as [method, path, body]. */
const CHANGES: ReadonlyArray<['POST' | 'DELETE', string, unknown]> = [
  ['POST', '/api/send', { to: 'ALICE', text: 'forged' }],
  ['POST', '/api/messages/1/read', {}],
  ['POST', '/api/messages/1/ack', {}],
  ['POST', '/api/messages/read-all', {}],
  ['POST', '/api/messages/1/reply', { text: 'forged' }],
  ['POST', '/api/aliases', { name: 'forged' }],
  ['DELETE', '/api/aliases/ALICE', {}],
  ['POST', '/api/logout', {}],
];

test('a change from a page without its CSRF token, with a wrong one, or from another Origin is refused (403) and reaches nothing', async () => {
  const web = await fakeWeb({ messages: [{ from: 'BOB', to: 'ALICE', text: 'hi' }] });
  const owner = await ownerLogin(web);
  const forgeries: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['no token', { 'x-csrf-token': undefined }, /CSRF token/],
    ['wrong token', { 'x-csrf-token': 'x'.repeat(43) }, /CSRF token/],
    ['another origin', { origin: 'http://attacker.example' }, /Origin does not match Host/],
    ['no origin', { origin: undefined }, /Origin does not match Host/],
  ];
  for (const [method, url, body] of CHANGES) {
    for (const [what, headers, why] of forgeries) {
      const response = await owner.send(method, url, body, headers);
      assert.equal(response.statusCode, 403, `${method} ${url}: ${what}`);
      assert.match((response.json() as { message: string }).message, why);
    }
  }
  assert.deepEqual([web.controls.length, web.receipts.length], [0, 0], 'no operation ran, nothing was recorded');
  assert.equal((await owner.get('/api/session')).statusCode, 200, 'still logged in');
  // with the token and this page's Origin, the same changes go through
  for (const [method, url, body] of CHANGES) assert.equal((await owner.send(method, url, body)).statusCode, 200, `${method} ${url}`);
});

test('an API client with an Authorization header carries no ambient credentials: it needs neither token nor Origin', async () => {
  const web = await fakeWeb({ messages: [{ from: 'BOB', to: 'MONITOR', text: 'hi' }] });
  for (const authorization of ['Bearer monitor-token', basic('monitor', 'monitor-pw')]) {
    const response = await web.inject({ method: 'POST', url: '/api/send', headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify({ to: 'ALICE', text: 'hi' }) });
    assert.equal(response.statusCode, 200, authorization);
  }
  assert.equal((await web.inject({ method: 'POST', url: '/api/messages/1/ack', headers: { authorization: 'Bearer monitor-token' } })).statusCode, 200);
  assert.equal(web.controls.length, 2);
});
