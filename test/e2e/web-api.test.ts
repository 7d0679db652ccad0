/**
 * The web inbox's HTTP API against a real daemon, curl-style (fetch on 127.0.0.1): logins,
 * CSRF and Origin refusals, who sees which message, read/ack state, ntfy's publish.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DaemonProcess } from '../helpers/daemon.js';
import { WebSession, addAccount, loginUrl, startWebDaemon } from '../helpers/web.js';

interface ApiMessage {
  id: number;
  from: string;
  to: string;
  text: string;
  state: { read: boolean; acknowledged: boolean; latest: { state: string; surface: string; by: string | null } | null };
}

const tokenOf = (url: string) => new URL(url).hash.replace('#token=', '');

/** Whether a live stream ends (the server closed it) within `ms`. */
async function streamEnds(response: Response, ms: number): Promise<boolean> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const timer = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms));
  const ended = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // reset: ended as well
    }
    return 'ended' as const;
  })();
  const result = await Promise.race([ended, timer]);
  if (result === 'open') await reader.cancel().catch(() => {});
  return result === 'ended';
}

describe('the web API', () => {
  let daemon: DaemonProcess;
  let base: string;
  let stop: () => Promise<void>;
  let owner: WebSession;
  let apiToken: string;

  before(async () => {
    ({ daemon, base, stop } = await startWebDaemon());
    await daemon.cli(['name', 'ALICE', '/add']);
    await daemon.cli(['name', 'BOB', '/add']);
    await addAccount(daemon, 'alice', 'alice-pw');
    await addAccount(daemon, 'bob', 'bob-pw');
    await addAccount(daemon, 'monitor', 'monitor-pw', ['Server Operators']);
    apiToken = (await daemon.cli(['user', 'token', 'monitor'])).stdout.trim();
    owner = await WebSession.login(base, { token: tokenOf(await loginUrl(daemon)) });
  });
  after(() => stop());

  test('the daemon prints a one-time login URL at start, on loopback', () => {
    assert.match(daemon.stderr, /web inbox at http:\/\/127\.0\.0\.1:\d+\/; one-time login: http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}/);
  });

  test('a one-time login URL logs in once; the second use is refused', async () => {
    const url = await loginUrl(daemon);
    await WebSession.login(base, { token: tokenOf(url) });
    const again = await fetch(`${base}/api/login`, { method: 'POST', headers: { Origin: base, 'Content-Type': 'application/json' }, body: JSON.stringify({ token: tokenOf(url) }) });
    assert.equal(again.status, 401);
    assert.match(((await again.json()) as { message: string }).message, /already used or has expired/);
  });

  test('a wrong password is refused and the page is not served to an unknown host name (DNS rebinding)', async () => {
    const wrong = await fetch(`${base}/api/login`, { method: 'POST', headers: { Origin: base, 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: 'nope' }) });
    assert.equal(wrong.status, 401);
    // fetch will not send another Host: a raw request, as a rebound browser would send it
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${base}/api/session`, { headers: { Host: 'attacker.example', Cookie: owner.cookie } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject).end();
    });
    assert.equal(status, 421);
  });

  test('the session cookie is HttpOnly, SameSite=Strict and bounded in time', async () => {
    const response = await fetch(`${base}/api/login`, { method: 'POST', headers: { Origin: base, 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: 'alice-pw' }) });
    const cookie = response.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^netsend_\d+=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  });

  test('a change without the CSRF token, or from another Origin, is refused and changes nothing', async () => {
    const before = ((await (await owner.get('/api/messages')).json()) as { messages: ApiMessage[] }).messages.length;
    const noToken = await owner.send('POST', '/api/send', { to: 'ALICE', text: 'forged' }, { 'X-CSRF-Token': undefined });
    assert.equal(noToken.status, 403);
    assert.match(((await noToken.json()) as { message: string }).message, /CSRF token/);
    const otherOrigin = await owner.send('POST', '/api/send', { to: 'ALICE', text: 'forged' }, { Origin: 'http://attacker.example' });
    assert.equal(otherOrigin.status, 403);
    const noOrigin = await owner.send('POST', '/api/send', { to: 'ALICE', text: 'forged' }, { Origin: undefined });
    assert.equal(noOrigin.status, 403);
    // a form post from another site cannot send JSON: text/plain is refused even with the token
    const form = await fetch(`${base}/api/send`, { method: 'POST', headers: { Cookie: owner.cookie, Origin: base, 'X-CSRF-Token': owner.csrf, 'Content-Type': 'text/plain' }, body: '{"to":"ALICE","text":"forged"}' });
    assert.equal(form.status, 415);
    const loginFromElsewhere = await fetch(`${base}/api/login`, { method: 'POST', headers: { Origin: 'http://attacker.example', 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: 'alice-pw' }) });
    assert.equal(loginFromElsewhere.status, 403);
    const after = ((await (await owner.get('/api/messages')).json()) as { messages: ApiMessage[] }).messages;
    assert.equal(after.length, before);
    assert.ok(!after.some((m) => m.text === 'forged'));
  });

  test('an account sees only messages to its alias and to the workgroup; the owner sees all', async () => {
    const sentAlice = await daemon.cli(['send', 'ALICE', 'for alice only']);
    assert.equal(sentAlice.code, 0, sentAlice.stderr);
    assert.equal((await daemon.cli(['send', 'BOB', 'for bob only'])).code, 0);
    const alice = await WebSession.login(base, { user: 'alice', password: 'alice-pw' });
    const seen = ((await (await alice.get('/api/messages')).json()) as { messages: ApiMessage[] }).messages.map((m) => m.text);
    assert.ok(seen.includes('for alice only'));
    assert.ok(!seen.includes('for bob only'), `alice must not see bob's message: ${seen.join(' | ')}`);
    const bobsId = ((await (await owner.get('/api/messages?q=for%20bob')).json()) as { messages: ApiMessage[] }).messages[0]?.id;
    assert.ok(bobsId !== undefined);
    assert.equal((await alice.get(`/api/messages/${bobsId}`)).status, 404);
    assert.equal((await alice.send('POST', `/api/messages/${bobsId}/ack`)).status, 404);
    // the same rule with a password in the Authorization header instead of a session
    const basic = await fetch(`${base}/api/messages`, { headers: { Authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` } });
    assert.ok(!((await basic.json()) as { messages: ApiMessage[] }).messages.some((m) => m.text === 'for bob only'));
  });

  test('search finds messages by text; read and acknowledge are recorded as the web surface', async () => {
    assert.equal((await daemon.cli(['send', 'ALICE', 'the quarterly numbers'])).code, 0);
    const found = ((await (await owner.get('/api/messages?q=QUARTERLY')).json()) as { messages: ApiMessage[] }).messages;
    assert.deepEqual(found.map((m) => m.text), ['the quarterly numbers']);
    const id = (found[0] as ApiMessage).id;
    assert.equal((found[0] as ApiMessage).state.read, false);
    const read = (await (await owner.send('POST', `/api/messages/${id}/read`)).json()) as ApiMessage;
    assert.deepEqual([read.state.read, read.state.acknowledged], [true, false]);
    const acked = (await (await owner.send('POST', `/api/messages/${id}/ack`)).json()) as ApiMessage;
    assert.deepEqual([acked.state.read, acked.state.acknowledged, acked.state.latest?.surface], [true, true, 'web']);
    const detail = (await (await owner.get(`/api/messages/${id}`)).json()) as { events: Array<{ state: string }> };
    assert.deepEqual(detail.events.map((e) => e.state), ['read', 'acknowledged']);
  });

  test('each message says whether a reply can go; the reply route still refuses one that cannot (2273); mark all read reads what the account sees, as single reads do', async () => {
    assert.equal((await daemon.cli(['send', 'ALICE', '--from', 'GHOST', 'from a name nobody holds'])).code, 0);
    assert.equal((await daemon.cli(['send', 'ALICE', '--from', 'BOB', 'from bob, an alias here'])).code, 0);
    assert.equal((await daemon.cli(['send', 'BOB', 'for bob, left unread'])).code, 0);
    const byText = async (session: WebSession, q: string) => ((await (await session.get(`/api/messages?q=${encodeURIComponent(q)}`)).json()) as { messages: Array<ApiMessage & { canReply: boolean }> }).messages[0];
    const ghost = await byText(owner, 'from a name nobody holds');
    const bob = await byText(owner, 'from bob, an alias here');
    assert.deepEqual([ghost?.canReply, bob?.canReply], [false, true]);
    const refused = await owner.send('POST', `/api/messages/${ghost?.id}/reply`, { text: 'who are you?' });
    assert.equal(refused.status, 404);
    assert.deepEqual(((await refused.json()) as { status: number; name: string }).name, 'NERR_NameNotFound');
    const alice = await WebSession.login(base, { user: 'alice', password: 'alice-pw' });
    const session = (await (await alice.get('/api/session')).json()) as { canSend: boolean; sendProblem: string | null };
    assert.deepEqual([session.canSend, session.sendProblem], [false, 'Remote calls on a standalone server need membership in Administrators or Server Operators.']);
    const marked = await alice.send('POST', '/api/messages/read-all');
    assert.equal(marked.status, 200);
    const answer = (await marked.json()) as { marked: number[]; more: boolean; before: number | null };
    assert.ok(answer.marked.includes(ghost?.id as number) && answer.marked.includes(bob?.id as number), JSON.stringify(answer));
    assert.deepEqual([answer.more, answer.before], [false, null]);
    const mine = ((await (await alice.get('/api/messages')).json()) as { messages: ApiMessage[] }).messages;
    assert.ok(mine.every((m) => m.state.read), 'nothing alice sees is unread');
    // through the receipts, as a single read: the sender's receipt says read, on the web, by alice
    const receipt = JSON.parse((await daemon.cli(['receipt', String(bob?.id), '--json'])).stdout) as { state: string; surfaces: Record<string, { state: string; by: string | null }> };
    assert.deepEqual([receipt.state, receipt.surfaces.web?.state, receipt.surfaces.web?.by], ['read', 'read', 'alice']);
    assert.equal((await byText(owner, 'for bob, left unread'))?.state.read, false, "bob's message is not alice's to mark");
    assert.equal((await alice.send('POST', '/api/messages/read-all', undefined, { 'X-CSRF-Token': undefined })).status, 403, 'the CSRF token, as for every change');
  });

  test('compose takes NET SEND\'s targets: * and /domain:NAME go to the workgroup broadcast, which says why when it is off', async () => {
    // this daemon runs without the mailslot (--dgram-port 0); the broadcast itself is tested on a namespaced LAN
    for (const to of ['*', '/domain:SALES', '/DOMAIN']) {
      const response = await owner.send('POST', '/api/send', { to, text: 'fire drill at three' });
      assert.equal(response.status, 400, to);
      assert.deepEqual(await response.json(), { status: 50, name: 'ERROR_NOT_SUPPORTED', message: 'The request is not supported. Broadcast messages need the mailslot transport, which is off here.' }, to);
    }
    const tooLong = await owner.send('POST', '/api/send', { to: '*', text: 'x'.repeat(129) });
    assert.equal(((await tooLong.json()) as { status: number }).status, 87, 'NET SEND\'s 128 characters for a broadcast');
  });

  test('a GET never changes anything: read/ack only answer to POST', async () => {
    const response = await owner.get('/api/messages/1/ack');
    assert.equal(response.status, 404);
  });

  test('ntfy publish: POST /ALIAS with a Bearer token sends the text, with Title and Priority', async () => {
    const response = await fetch(`${base}/ALICE`, { method: 'POST', headers: { Authorization: `Bearer ${apiToken}`, Title: 'Backup', Priority: 'urgent' }, body: 'backup failed on db1' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { id: number; topic: string; message: string; title: string; priority: number; event: string };
    assert.deepEqual([body.event, body.topic, body.message, body.title, body.priority], ['message', 'ALICE', 'backup failed on db1', 'Backup', 5]);
    const inbox = JSON.parse((await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').at(-1) as string) as { id: number; to: string; title: string; text: string; priority: string };
    assert.deepEqual([inbox.id, inbox.to, inbox.title, inbox.text, inbox.priority], [body.id, 'ALICE', 'Backup', 'backup failed on db1', 'urgent']);
  });

  test('ntfy publish with Basic user:password, and priorities as numbers', async () => {
    const response = await fetch(`${base}/BOB`, { method: 'PUT', headers: { Authorization: `Basic ${Buffer.from('monitor:monitor-pw').toString('base64')}`, 'X-Priority': '2' }, body: 'low disk' });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { priority: number }).priority, 2);
  });

  test('ntfy publish is refused without auth, with a wrong token, a bad priority, or a text over the limit', async () => {
    const none = await fetch(`${base}/ALICE`, { method: 'POST', body: 'hi' });
    assert.equal(none.status, 401);
    const wrong = await fetch(`${base}/ALICE`, { method: 'POST', headers: { Authorization: 'Bearer not-a-token' }, body: 'hi' });
    assert.equal(wrong.status, 401);
    const priority = await fetch(`${base}/ALICE`, { method: 'POST', headers: { Authorization: `Bearer ${apiToken}`, Priority: 'eleven' }, body: 'hi' });
    assert.equal(priority.status, 400);
    // max message size 65,536 bytes of UTF-16: 32,768 characters
    const long = await fetch(`${base}/ALICE`, { method: 'POST', headers: { Authorization: `Bearer ${apiToken}` }, body: 'x'.repeat(40_000) });
    assert.equal(long.status, 400);
    assert.match(((await long.json()) as { message: string }).message, /max message size/);
    const huge = await fetch(`${base}/ALICE`, { method: 'POST', headers: { Authorization: `Bearer ${apiToken}` }, body: 'x'.repeat(1024 * 1024) });
    assert.equal(huge.status, 413);
  });

  test('an account outside the remote-call groups cannot publish or send: the same rules as a remote call', async () => {
    const response = await fetch(`${base}/ALICE`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` }, body: 'hi' });
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { message: string }).message, /Administrators or Server Operators/);
  });

  test('aliases: the owner lists, adds and deletes; an ordinary account may not add', async () => {
    assert.equal((await owner.send('POST', '/api/aliases', { name: 'pager' })).status, 200);
    let names = ((await (await owner.get('/api/aliases')).json()) as Array<{ name: string }>).map((a) => a.name);
    assert.ok(names.includes('PAGER'));
    assert.equal((await owner.send('DELETE', '/api/aliases/PAGER')).status, 200);
    names = ((await (await owner.get('/api/aliases')).json()) as Array<{ name: string }>).map((a) => a.name);
    assert.ok(!names.includes('PAGER'));
    const alice = await WebSession.login(base, { user: 'alice', password: 'alice-pw' });
    assert.equal((await alice.send('POST', '/api/aliases', { name: 'mine' })).status, 403);
  });

  test('netsend web url says so when the web inbox is off (http port 0)', async () => {
    const off = await startWebDaemon(['--http-port', '0']);
    try {
      const result = await off.daemon.cli(['web', 'url']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /web inbox is off/);
    } finally {
      await off.stop();
    }
  });

  test('an account that changes is not trusted on its old login: lost groups take effect at once, a new password logs it out', async () => {
    await addAccount(daemon, 'carol', 'carol-pw', ['Administrators']);
    assert.equal((await daemon.cli(['send', 'BOB', 'bob only, carol as admin'])).code, 0);
    const carol = await WebSession.login(base, { user: 'carol', password: 'carol-pw' });
    const session = async () => (await (await carol.get('/api/session')).json()) as { admin: boolean; canManageAliases: boolean };
    const texts = async () => ((await (await carol.get('/api/messages')).json()) as { messages: ApiMessage[] }).messages.map((m) => m.text);
    assert.equal((await session()).admin, true);
    assert.ok((await texts()).includes('bob only, carol as admin'), 'an administrator sees every message');
    const stream = await fetch(`${base}/api/events`, { headers: { Cookie: carol.cookie } });
    assert.equal(stream.status, 200);
    assert.equal((await daemon.cli(['user', 'groups', 'carol', '--remove', 'Administrators'])).code, 0);
    assert.deepEqual([(await session()).admin, (await session()).canManageAliases], [false, false]);
    assert.ok(!(await texts()).includes('bob only, carol as admin'), 'no longer an administrator: no longer sees all');
    assert.equal((await carol.send('POST', '/api/aliases', { name: 'carols' })).status, 403);
    assert.equal(await streamEnds(stream, 3000), true, 'her stream (which saw everything) is closed, to reconnect as what she is now');
    assert.equal((await daemon.cli(['user', 'password', 'carol'], { input: 'carol-new-pw\n' })).code, 0);
    assert.equal((await carol.get('/api/session')).status, 401, 'a new password ends the sessions of the old one');
    assert.equal((await carol.send('POST', '/api/send', { to: 'ALICE', text: 'after the password change' })).status, 401);
  });

  test("a deleted account is logged out at once, and its streams end, the token's too", async () => {
    await addAccount(daemon, 'dave', 'dave-pw', ['Server Operators']);
    const token = (await daemon.cli(['user', 'token', 'dave'])).stdout.trim();
    const dave = await WebSession.login(base, { user: 'dave', password: 'dave-pw' });
    const cookieStream = await fetch(`${base}/api/events`, { headers: { Cookie: dave.cookie } });
    const tokenStream = await fetch(`${base}/api/events`, { headers: { Authorization: `Bearer ${token}` } });
    assert.deepEqual([cookieStream.status, tokenStream.status], [200, 200]);
    assert.equal((await daemon.cli(['user', 'delete', 'dave'])).code, 0);
    assert.equal(await streamEnds(tokenStream, 3000), true, 'the Bearer stream ends');
    assert.equal(await streamEnds(cookieStream, 3000), true, 'the session stream ends');
    assert.equal((await dave.get('/api/session')).status, 401);
    assert.equal((await fetch(`${base}/api/events`, { headers: { Authorization: `Bearer ${token}` } })).status, 401);
  });

  test("a revoked token is refused at once: its Bearer stream ends, and so do the account's page sessions", async () => {
    await addAccount(daemon, 'erin', 'erin-pw', ['Server Operators']);
    const token = (await daemon.cli(['user', 'token', 'erin'])).stdout.trim();
    const erin = await WebSession.login(base, { user: 'erin', password: 'erin-pw' });
    const tokenStream = await fetch(`${base}/api/events`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(tokenStream.status, 200);
    assert.equal((await daemon.cli(['user', 'revoke', 'erin', token])).code, 0);
    assert.equal(await streamEnds(tokenStream, 3000), true, 'the Bearer stream ends');
    assert.equal((await fetch(`${base}/api/events`, { headers: { Authorization: `Bearer ${token}` } })).status, 401);
    assert.equal((await fetch(`${base}/ALICE`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: 'after revoke' })).status, 401);
    assert.equal((await erin.get('/api/session')).status, 401, 'the page session ends too: it does not know which credential it logged on with');
    await WebSession.login(base, { user: 'erin', password: 'erin-pw' }); // the password still logs on
  });

  test('an account whose name is not ASCII sees the messages to its alias in the list as on the live stream', async () => {
    assert.equal((await daemon.cli(['name', 'ÉMILE', '/add'])).code, 0);
    await addAccount(daemon, 'émile', 'emile-pw');
    const emile = await WebSession.login(base, { user: 'émile', password: 'emile-pw' });
    const stream = await fetch(`${base}/api/events`, { headers: { Cookie: emile.cookie } });
    assert.equal((await daemon.cli(['send', 'ÉMILE', 'pour émile'])).code, 0);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let live = '';
    while (!live.includes('pour émile')) live += Buffer.from((await reader.read()).value ?? []).toString();
    await reader.cancel();
    const listed = ((await (await emile.get('/api/messages')).json()) as { messages: ApiMessage[] }).messages.map((m) => m.text);
    assert.deepEqual(listed, ['pour émile']);
    const after = ((await (await emile.get('/api/messages?q=pour')).json()) as { messages: ApiMessage[] }).messages.map((m) => m.text);
    assert.deepEqual(after, ['pour émile'], 'and in search');
  });

  test('a query parameter given twice is a bad request (status 87), not an internal error', async () => {
    for (const path of ['/api/messages?q=a&q=b', '/api/messages?limit=1&limit=2', '/api/events?after=1&after=2']) {
      const response = await owner.get(path);
      assert.equal(response.status, 400, path);
      assert.deepEqual(Object.keys((await response.json()) as object), ['status', 'name', 'message']);
    }
    const response = await owner.get('/api/messages?q=a&q=b');
    assert.equal(((await response.json()) as { status: number }).status, 87);
  });

  test('an unknown path answers 404 with the same error body as everything else', async () => {
    for (const [method, path] of [['GET', '/api/nope'], ['GET', '/nope'], ['DELETE', '/api/messages']] as const) {
      const response = await fetch(`${base}${path}`, { method, headers: { Cookie: owner.cookie } });
      assert.equal(response.status, 404, path);
      const body = (await response.json()) as { status: number; name: string; message: string };
      assert.deepEqual([body.status, body.name], [50, 'ERROR_NOT_SUPPORTED'], path);
      assert.match(body.message, /There is no/);
    }
  });

  test('logging out ends the session', async () => {
    const session = await WebSession.login(base, { user: 'bob', password: 'bob-pw' });
    assert.equal((await session.send('POST', '/api/logout')).status, 200);
    assert.equal((await session.get('/api/session')).status, 401);
  });
});

describe('the web API against floods', () => {
  let daemon: DaemonProcess;
  let base: string;
  let stop: () => Promise<void>;

  before(async () => {
    ({ daemon, base, stop } = await startWebDaemon());
    await addAccount(daemon, 'erin', 'erin-pw');
  });
  after(() => stop());

  test('pages that leave during the password check take no stream slots: a ninth stream still opens', async () => {
    const basic = `Basic ${Buffer.from('erin:erin-pw').toString('base64')}`;
    const port = Number(new URL(base).port);
    for (let i = 0; i < 9; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((resolve) => socket.on('connect', resolve));
      socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${basic}\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      socket.destroy(); // gone while scrypt checks the password
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const stream = await fetch(`${base}/api/events`, { headers: { Authorization: basic } });
    assert.equal(stream.status, 200, await (stream.status === 200 ? Promise.resolve('') : stream.text()));
    await stream.body?.cancel();
  });

  test('one-time login guesses are charged to the address like passwords, and refused logons are audited per address, not per connection', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      // a fresh connection each time: a fresh source port
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(`${base}/api/login`, { method: 'POST', agent: false, headers: { Origin: base, 'Content-Type': 'application/json', Connection: 'close' } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject).end(JSON.stringify({ token: `guess-${i}` }));
      });
      statuses.push(status);
    }
    assert.ok(statuses.slice(0, 5).every((s) => s === 401), statuses.join(' '));
    assert.ok(statuses.slice(12).every((s) => s === 429), `slowed down after the burst: ${statuses.join(' ')}`);
    const audit = (await daemon.cli(['audit', '--json'])).stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { event: string; source: string | null });
    const refused = audit.filter((r) => r.event === 'refused-logon');
    assert.ok(refused.length <= 22, `${refused.length} refused-logon records for 40 attempts: the audit's allowance is per address`);
    assert.ok(refused.every((r) => r.source === '127.0.0.1'), JSON.stringify(refused.slice(0, 2)));
  });
});
