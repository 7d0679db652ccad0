/**
 * What every web request goes through, in-process (app.inject, no sockets): the host check,
 * the common headers, one value per query parameter, the not-found answer, and the one table
 * from a NetApiError to its HTTP status.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetApiError } from '../../messenger/errors.js';
import type { StatusName } from '../../messenger/status.js';
import { basic, fakeWeb, ownerLogin } from './fakes.test.helper.js';

test('a request naming a host this machine is not is refused with 421 before anything else (DNS rebinding)', async () => {
  const web = await fakeWeb();
  const owner = await ownerLogin(web);
  for (const host of ['attacker.example', 'attacker.example:8139', 'localhost.attacker.example', 'x'.repeat(256)]) {
    const response = await web.inject({ method: 'GET', url: '/api/session', headers: { host, cookie: owner.cookie } });
    assert.equal(response.statusCode, 421, host);
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(response.json(), { status: 5, name: 'ERROR_ACCESS_DENIED', message: 'This server does not answer to that host name.' });
  }
  assert.equal((await web.inject({ method: 'GET', url: '/', headers: { host: 'attacker.example' } })).statusCode, 421, 'the page too');
  // literal addresses and this machine's own names are served
  for (const host of ['127.0.0.1:8139', '[::1]:8139', '10.1.2.3', 'localhost:8139', 'INBOX']) {
    const response = await web.inject({ method: 'GET', url: '/api/session', headers: { host, cookie: owner.cookie } });
    assert.equal(response.statusCode, 200, host);
  }
});

test('every answer says nosniff, no-referrer and no-store; the page adds its CSP and refuses framing', async () => {
  const web = await fakeWeb();
  const page = await web.inject({ method: 'GET', url: '/' });
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.body, web.context.page.html);
  assert.match(String(page.headers['content-security-policy']), /^default-src 'none'; script-src 'self';.*frame-ancestors 'none'$/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  const script = await web.inject({ method: 'GET', url: '/app.js' });
  assert.deepEqual([script.headers['content-type'], script.body], ['text/javascript; charset=utf-8', web.context.page.js]);
  const style = await web.inject({ method: 'GET', url: '/app.css' });
  assert.deepEqual([style.headers['content-type'], style.body], ['text/css; charset=utf-8', web.context.page.css]);
  for (const response of [page, script, style, await web.inject({ method: 'GET', url: '/api/session' }), await web.inject({ method: 'GET', url: '/nope' })]) {
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    assert.equal(response.headers['cache-control'], 'no-store');
  }
});

test('a query parameter given twice is a bad request (status 87) on every path, before the login check', async () => {
  const web = await fakeWeb();
  const owner = await ownerLogin(web);
  for (const url of ['/api/messages?q=a&q=b', '/api/messages?limit=1&limit=2', '/api/events?after=1&after=2', '/nope?x=1&x=2']) {
    const response = await owner.get(url);
    assert.equal(response.statusCode, 400, url);
    const body = response.json() as { status: number; name: string; message: string };
    assert.deepEqual(Object.keys(body), ['status', 'name', 'message']);
    assert.deepEqual([body.status, body.name], [87, 'ERROR_INVALID_PARAMETER'], url);
    assert.match(body.message, /must be given once/);
  }
  assert.equal((await web.inject({ method: 'GET', url: '/api/messages?q=a&q=b' })).statusCode, 400, 'without a login too');
});

test('an unknown path or method answers 404 with the same error body as everything else', async () => {
  const web = await fakeWeb();
  const owner = await ownerLogin(web);
  for (const [method, url] of [['GET', '/api/nope'], ['GET', '/nope/deeper'], ['DELETE', '/api/messages'], ['GET', '/api/messages/1/ack'], ['PATCH', '/ALICE']] as const) {
    const response = await web.inject({ method, url: `${url}?a=1`, headers: { cookie: owner.cookie } });
    assert.equal(response.statusCode, 404, `${method} ${url}`);
    assert.deepEqual(response.json(), { status: 50, name: 'ERROR_NOT_SUPPORTED', message: `There is no ${method} ${url} here.` });
  }
});

/** Each status the table names, and one it does not (the caller's mistake), with the HTTP answer a client sees. */
const TABLE: ReadonlyArray<[StatusName, number]> = [
  ['ERROR_ACCESS_DENIED', 403],
  ['ERROR_NOT_FOUND', 404],
  ['NERR_NameNotFound', 404],
  ['NERR_NetworkError', 502],
  ['NERR_NameInUse', 429],
  ['NERR_AlreadyExists', 400],
  ['ERROR_INVALID_PARAMETER', 400],
];

test('a NetApiError from a control operation answers with its HTTP status and its own status body; only the rate limit says Retry-After', async () => {
  let failure: Error = new Error('unset');
  const web = await fakeWeb({
    control: async () => {
      throw failure;
    },
  });
  const owner = await ownerLogin(web);
  for (const [name, http] of TABLE) {
    failure = new NetApiError(name, 'Said the operation.');
    const response = await owner.send('POST', '/api/send', { to: 'ALICE', text: 'hi' });
    assert.equal(response.statusCode, http, name);
    assert.deepEqual(response.json(), (failure as NetApiError).toJSON(), name);
    assert.equal(response.headers['retry-after'], name === 'NERR_NameInUse' ? '1' : undefined, name);
  }
  // a status number netsend does not know (from another host, say) is the request's problem too
  failure = NetApiError.fromStatus(9999, 'Something odd.');
  const odd = await owner.send('POST', '/api/send', { to: 'ALICE', text: 'hi' });
  assert.deepEqual([odd.statusCode, odd.json()], [400, { status: 9999, name: 'UNKNOWN', message: 'Something odd.' }]);
  // anything else is a 500 that tells nothing of the inside
  failure = new Error('the database file is at /secret/path');
  const internal = await owner.send('POST', '/api/send', { to: 'ALICE', text: 'hi' });
  assert.deepEqual([internal.statusCode, internal.json()], [500, { status: 2140, name: 'NERR_InternalError', message: 'An internal error occurred.' }]);
});

test("the same table answers for the publish endpoint, and fastify's own refusals keep their 4xx as status 87", async () => {
  const web = await fakeWeb({
    control: async () => {
      throw new NetApiError('NERR_NameInUse', 'Slow down.');
    },
  });
  const limited = await web.inject({ method: 'POST', url: '/ALICE', headers: { authorization: 'Bearer monitor-token' }, payload: 'hi' });
  assert.deepEqual([limited.statusCode, limited.headers['retry-after'], (limited.json() as { status: number }).status], [429, '1', 2283]);
  // the body limit is set from the largest message (256 bytes here): 3 × 256 + 16 KiB
  const huge = await web.inject({ method: 'POST', url: '/ALICE', headers: { authorization: basic('monitor', 'monitor-pw') }, payload: 'x'.repeat(20_000) });
  assert.equal(huge.statusCode, 413);
  assert.deepEqual([(huge.json() as { status: number }).status, (huge.json() as { name: string }).name], [87, 'ERROR_INVALID_PARAMETER']);
});
