/**
 * The inbox, compose and ntfy's publish, in-process: who sees which message, read and
 * acknowledge through the receipts, NET SEND's targets, and what a publisher gets back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetApiError } from '../../messenger/errors.js';
import { basic, fakeWeb, login, ownerLogin } from './fakes.test.helper.js';
import { READ_ALL_LIMITS } from './messages.js';
import { ntfyPriority } from '../routes.js';

interface ApiMessage {
  id: number;
  from: string;
  to: string;
  text: string;
  canReply: boolean;
  state: { read: boolean; acknowledged: boolean; latest: { state: string; surface: string; by: string | null } | null };
}

const INBOX = [
  { from: 'BOB', to: 'ALICE', text: 'for alice only' },
  { from: 'ALICE', to: 'BOB', text: 'for bob only' },
  { from: 'CAROL', to: 'WORKGROUP', text: 'for everyone' },
  { from: 'BOB', to: 'alice', text: 'the quarterly numbers' },
];

const texts = (body: unknown) => (body as { messages: ApiMessage[] }).messages.map((m) => m.text);

test("an account sees only messages to its alias and to the workgroup; another's message is 404 by id, for reading and for changes", async () => {
  const web = await fakeWeb({ messages: INBOX });
  const alice = await login(web, { user: 'alice', password: 'alice-pw' });
  assert.deepEqual(texts((await alice.get('/api/messages')).json()), ['the quarterly numbers', 'for everyone', 'for alice only'], 'newest first');
  const notFound = { status: 1168, name: 'ERROR_NOT_FOUND', message: 'No such message.' };
  for (const response of [await alice.get('/api/messages/2'), await alice.send('POST', '/api/messages/2/ack'), await alice.send('POST', '/api/messages/2/read'), await alice.send('POST', '/api/messages/2/reply', { text: 'hi' })]) {
    assert.deepEqual([response.statusCode, response.json()], [404, notFound]);
  }
  for (const id of ['99', '0', '-1', 'abc', '1.5']) assert.equal((await alice.get(`/api/messages/${id}`)).statusCode, 404, id);
  assert.deepEqual([web.receipts.length, web.controls.length], [0, 0], "nothing was recorded for or sent about bob's message");
  // the same rule with a password in the Authorization header instead of a session
  const header = await web.inject({ method: 'GET', url: '/api/messages', headers: { authorization: basic('alice', 'alice-pw') } });
  assert.ok(!texts(header.json()).includes('for bob only'));
  const owner = await ownerLogin(web);
  assert.equal(texts((await owner.get('/api/messages')).json()).length, 4, 'the owner sees every message');
  assert.equal((await owner.get('/api/messages/2')).statusCode, 200);
});

test('the list pages and searches, and says which parameter is wrong', async () => {
  const web = await fakeWeb({ messages: INBOX });
  const owner = await ownerLogin(web);
  assert.deepEqual(texts((await owner.get('/api/messages?q=QUARTERLY')).json()), ['the quarterly numbers']);
  assert.deepEqual(texts((await owner.get('/api/messages?before=4&limit=2')).json()), ['for everyone', 'for bob only']);
  assert.deepEqual(texts((await owner.get('/api/messages?after=3&limit=0')).json()), ['the quarterly numbers'], 'a limit under 1 is 1');
  for (const [url, message] of [
    ['/api/messages?limit=-1', 'limit must be a whole number.'],
    ['/api/messages?before=x', 'before must be a whole number.'],
    [`/api/messages?q=${'x'.repeat(201)}`, 'Search for at most 200 characters.'],
  ] as const) {
    const response = await owner.get(url);
    assert.deepEqual([response.statusCode, response.json()], [400, { status: 87, name: 'ERROR_INVALID_PARAMETER', message }], url);
  }
});

test('read and acknowledge are recorded by the receipts, given the message in hand, as the web surface, by the caller; the routes leave telling the pages to them', async () => {
  const web = await fakeWeb({ messages: INBOX });
  const alice = await login(web, { user: 'alice', password: 'alice-pw' });
  const read = (await alice.send('POST', '/api/messages/1/read')).json() as ApiMessage;
  assert.deepEqual([read.id, read.state.read, read.state.acknowledged], [1, true, false]);
  const acked = (await alice.send('POST', '/api/messages/1/ack')).json() as ApiMessage;
  assert.deepEqual([acked.state.read, acked.state.acknowledged, acked.state.latest?.surface, acked.state.latest?.by], [true, true, 'web', 'alice']);
  assert.deepEqual(web.receipts, [
    { messageId: 1, to: 'ALICE', state: 'read', surface: 'web', by: 'alice' },
    { messageId: 1, to: 'ALICE', state: 'acknowledged', surface: 'web', by: 'alice' },
  ]);
  assert.deepEqual(web.stateChanges, [], 'the receipts publish state changes, not the routes');
  const detail = (await alice.get('/api/messages/1')).json() as ApiMessage & { events: Array<{ state: string }> };
  assert.deepEqual([detail.text, detail.events.map((e) => e.state)], ['for alice only', ['read', 'acknowledged']]);
  assert.deepEqual(((await alice.get('/api/messages')).json() as { messages: ApiMessage[] }).messages.map((m) => m.state.acknowledged), [false, false, true]);
});

test('a message gone before its receipt is stored is 404, not an empty answer', async () => {
  const web = await fakeWeb({ messages: INBOX });
  const record = web.context.receipts.record;
  (web.context.receipts as { record: typeof record }).record = async () => null;
  const owner = await ownerLogin(web);
  const response = await owner.send('POST', '/api/messages/1/ack');
  assert.deepEqual([response.statusCode, (response.json() as { status: number }).status], [404, 1168]);
});

test("compose takes NET SEND's targets: a name is a send from the caller's alias, * and /domain[:NAME] are the workgroup broadcast", async () => {
  const web = await fakeWeb();
  const monitor = await login(web, { user: 'monitor', password: 'monitor-pw' });
  for (const to of [' bob ', '*', '/domain:SALES', '/DOMAIN']) assert.equal((await monitor.send('POST', '/api/send', { to, text: 'fire drill' })).statusCode, 200, to);
  assert.deepEqual(
    web.controls.map((c) => c.request),
    [
      { op: 'send', to: 'bob', from: 'MONITOR', text: 'fire drill' },
      { op: 'broadcast', from: 'MONITOR', text: 'fire drill', domain: null },
      { op: 'broadcast', from: 'MONITOR', text: 'fire drill', domain: 'SALES' },
      { op: 'broadcast', from: 'MONITOR', text: 'fire drill', domain: null },
    ],
  );
  assert.ok(web.controls.every((c) => c.principal.name === 'monitor' && c.principal.over === 'web'), 'as the caller, over the web');
  for (const to of ['', '  ', 5, undefined]) {
    const response = await monitor.send('POST', '/api/send', { to, text: 'x' });
    assert.deepEqual([response.statusCode, response.json()], [400, { status: 87, name: 'ERROR_INVALID_PARAMETER', message: 'Say whom the message is for.' }], String(to));
  }
  const owner = await ownerLogin(web);
  await owner.send('POST', '/api/send', { to: 'ALICE', text: 'from the computer' });
  assert.equal(web.controls.at(-1)?.request.from, null, 'no alias of its own: the computer name');
});

test("a reply goes to the sender, from the alias the message was for; aliases are listed, added and deleted through the control operations", async () => {
  const web = await fakeWeb({ messages: INBOX });
  const owner = await ownerLogin(web);
  assert.equal((await owner.send('POST', '/api/messages/1/reply', { text: 'thanks' })).statusCode, 200);
  assert.deepEqual(web.controls.at(-1)?.request, { op: 'send', to: 'BOB', from: 'ALICE', text: 'thanks' });
  assert.deepEqual((await owner.get('/api/aliases')).json(), []);
  await owner.send('POST', '/api/aliases', { name: 'pager' });
  await owner.send('DELETE', '/api/aliases/PAGER');
  assert.deepEqual(web.controls.slice(-3).map((c) => c.request), [{ op: 'names.list' }, { op: 'names.add', name: 'pager' }, { op: 'names.delete', name: 'PAGER' }]);
});

test("ntfy publish: POST or PUT /ALIAS with a token or a password sends the text with its title and priority, and answers as ntfy does", async () => {
  const web = await fakeWeb();
  const response = await web.inject({ method: 'POST', url: '/ALICE', headers: { authorization: 'Bearer monitor-token', title: 'Backup', priority: 'urgent' }, payload: 'backup failed on db1\n' });
  assert.equal(response.statusCode, 200);
  const body = response.json() as Record<string, unknown>;
  assert.equal(typeof body.time, 'number');
  assert.deepEqual({ ...body, time: 0 }, { id: 99, time: 0, event: 'message', topic: 'ALICE', message: 'backup failed on db1', title: 'Backup', priority: 5, delivered: 'ALICE' });
  assert.deepEqual(web.controls.at(-1)?.request, { op: 'send', to: 'ALICE', from: 'MONITOR', text: 'backup failed on db1', title: 'Backup', priority: 'urgent' });
  assert.equal(web.controls.at(-1)?.principal.over, 'ntfy');
  const put = await web.inject({ method: 'PUT', url: '/BOB', headers: { authorization: basic('monitor', 'monitor-pw'), 'x-priority': '2' }, payload: 'low disk' });
  assert.deepEqual([put.statusCode, (put.json() as { priority: number }).priority], [200, 2]);
  const empty = await web.inject({ method: 'POST', url: '/BOB', headers: { authorization: 'Bearer monitor-token' }, payload: '   ' });
  assert.equal((empty.json() as { message: string }).message, 'triggered', "ntfy's word for an empty body");
});

test('ntfy publish reads header text as ntfy does (UTF-8 bytes, RFC 2047), and takes title, priority and message as query parameters too', async () => {
  const web = await fakeWeb();
  const auth = { authorization: 'Bearer monitor-token' };
  // what a client sending UTF-8 puts on the wire, as Node hands it over: one Latin-1 character per byte
  const utf8Header = Buffer.from('Grüße 🍕', 'utf8').toString('latin1');
  const sent = await web.inject({ method: 'POST', url: '/ALICE', headers: { ...auth, title: utf8Header }, payload: 'pizza' });
  assert.equal((sent.json() as { title: string }).title, 'Grüße 🍕');
  assert.deepEqual([(web.controls.at(-1)?.request as { title: string }).title, (web.controls.at(-1)?.request as { text: string }).text], ['Grüße 🍕', 'pizza']);
  const encoded = await web.inject({ method: 'POST', url: '/ALICE', headers: { ...auth, title: '=?UTF-8?B?R3LDvMOfZQ==?=' }, payload: 'x' });
  assert.equal((encoded.json() as { title: string }).title, 'Grüße');
  const byQuery = await web.inject({ method: 'POST', url: '/ALICE?title=Disk&priority=5&message=db1%20is%20full', headers: auth });
  assert.deepEqual(
    [(byQuery.json() as { title: string }).title, (byQuery.json() as { priority: number }).priority, (byQuery.json() as { message: string }).message],
    ['Disk', 5, 'db1 is full'],
  );
  // a header and a query parameter both given: the header wins, as in ntfy
  const both = await web.inject({ method: 'POST', url: '/ALICE?priority=1', headers: { ...auth, priority: 'high' }, payload: 'x' });
  assert.equal((both.json() as { priority: number }).priority, 4);
});

test('ntfy publish as JSON to the root URL, whatever the Content-Type: topic, message, title and priority; other fields ignored; a missing topic says so', async () => {
  const web = await fakeWeb();
  const auth = { authorization: 'Bearer monitor-token' };
  const json = { topic: 'ALICE', message: 'Grüße from db1', title: 'Backup', priority: 4, tags: ['warning'], click: 'https://example.com' };
  // curl -d sends application/x-www-form-urlencoded: ntfy reads the body as JSON anyway
  const sent = await web.inject({ method: 'POST', url: '/', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: JSON.stringify(json) });
  assert.equal(sent.statusCode, 200);
  assert.deepEqual({ ...(sent.json() as Record<string, unknown>), time: 0 }, { id: 99, time: 0, event: 'message', topic: 'ALICE', message: 'Grüße from db1', title: 'Backup', priority: 4, delivered: 'ALICE' });
  assert.deepEqual(web.controls.at(-1)?.request, { op: 'send', to: 'ALICE', from: 'MONITOR', text: 'Grüße from db1', title: 'Backup', priority: 'high' });
  const put = await web.inject({ method: 'PUT', url: '/', headers: auth, payload: '{"topic":"BOB"}' });
  assert.deepEqual([put.statusCode, (put.json() as { message: string }).message], [200, 'triggered']);
  const refusals: Array<[string, string]> = [
    ['{"message":"no topic"}', '"topic" is missing: the alias to send to, as in {"topic": "ALICE", "message": "…"}.'],
    ['topic=ALICE', 'Publishing to the root URL takes a JSON object: {"topic": "ALIAS", "message": "…"}.'],
    ['["ALICE"]', 'The body must be a JSON object: {"topic": "ALIAS", "message": "…"}.'],
    ['{"topic":"ALICE","title":7}', '"title" must be a string.'],
    ['{"topic":"ALICE","priority":9}', 'Priority must be 1-5 or min, low, default, high, urgent, max.'],
  ];
  for (const [payload, why] of refusals) {
    const refused = await web.inject({ method: 'POST', url: '/', headers: auth, payload });
    assert.deepEqual([refused.statusCode, (refused.json() as { message: string }).message], [400, why], payload);
  }
  assert.equal((await web.inject({ method: 'POST', url: '/', payload: JSON.stringify(json) })).statusCode, 401, 'auth first, as for /ALIAS');
  assert.equal(web.controls.length, 2);
});

test('ntfy publish is refused without auth (401), with a wrong token (401), a malformed header or a bad priority (400)', async () => {
  const web = await fakeWeb();
  const publish = (headers: Record<string, string>) => web.inject({ method: 'POST', url: '/ALICE', headers, payload: 'hi' });
  const none = await publish({});
  assert.deepEqual([none.statusCode, (none.json() as { message: string }).message], [401, 'Log in first: a session, or an Authorization header (Bearer token or Basic user:password).']);
  assert.equal((await publish({ authorization: 'Bearer not-a-token' })).statusCode, 401);
  assert.equal((await publish({ authorization: 'Token x' })).statusCode, 400);
  const priority = await publish({ authorization: 'Bearer monitor-token', priority: 'eleven' });
  assert.deepEqual([priority.statusCode, (priority.json() as { message: string }).message], [400, 'Priority must be 1-5 or min, low, default, high, urgent, max.']);
  assert.equal(web.controls.length, 0);
  assert.deepEqual(['1', 'min', 'default', 'high', 'max', undefined].map(ntfyPriority), [1, 1, 3, 4, 5, 3]);
});

test('each message says whether a reply can go to its sender: an alias here, or a name from another host; not a local name that is no alias, nor a name no alias can be', async () => {
  const web = await fakeWeb({
    messages: [
      { from: 'BOB', to: 'ALICE', text: 'from an alias here' },
      { from: 'GHOST', to: 'ALICE', text: 'local, from a name that is no alias here' },
      { from: 'WINBOX', to: 'ALICE', text: 'over the legacy wire', via: 'smb' },
      { from: 'HOSTB', to: 'ALICE', text: 'from another netsend host', via: 'netsend' },
      { from: 'NOT A NAME ANY ALIAS CAN BE', to: 'ALICE', text: 'a name too long', via: 'smb' },
      { from: 'bad*name', to: 'ALICE', text: 'a name with a forbidden character', via: 'mailslot' },
      { from: 'monitor', to: 'ALICE', text: 'an alias in another case' },
    ],
    control: async (request) => {
      // as the daemon answers for a name neither an alias nor known to a name source
      if (request.op === 'send' && request.to === 'GHOST') throw new NetApiError('NERR_NameNotFound', '"GHOST" is not an alias here, and none of the name sources ("name resolve order") knows its host.');
      return { delivered: 'local', id: 99 };
    },
  });
  const owner = await ownerLogin(web);
  const listed = ((await owner.get('/api/messages')).json() as { messages: ApiMessage[] }).messages;
  assert.deepEqual(
    Object.fromEntries(listed.map((m) => [m.text, m.canReply])),
    {
      'from an alias here': true,
      'local, from a name that is no alias here': false,
      'over the legacy wire': true,
      'from another netsend host': true,
      'a name too long': false,
      'a name with a forbidden character': false,
      'an alias in another case': true,
    },
  );
  assert.equal(((await owner.get('/api/messages/2')).json() as ApiMessage).canReply, false, 'by id too');
  assert.equal(((await owner.send('POST', '/api/messages/2/read')).json() as ApiMessage).canReply, false, 'and in the answer to a change');
  // the page's rule does not replace the route's own checks: a reply sent anyway is refused as before
  const refused = await owner.send('POST', '/api/messages/2/reply', { text: 'who are you?' });
  assert.deepEqual([refused.statusCode, (refused.json() as { status: number; name: string }).status, (refused.json() as { name: string }).name], [404, 2273, 'NERR_NameNotFound']);
});

test('mark all read records every unread message the caller can see as a single read would, newest first; another account\'s messages and read ones are left alone', async () => {
  const web = await fakeWeb({ messages: INBOX });
  const alice = await login(web, { user: 'alice', password: 'alice-pw' });
  await alice.send('POST', '/api/messages/1/read');
  web.receipts.length = 0;
  const response = await alice.send('POST', '/api/messages/read-all');
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { marked: [4, 3], more: false, before: null });
  assert.deepEqual(web.receipts, [
    { messageId: 4, to: 'alice', state: 'read', surface: 'web', by: 'alice' },
    { messageId: 3, to: 'WORKGROUP', state: 'read', surface: 'web', by: 'alice' },
  ], 'through the receipts, as the web surface, by the caller: the senders\' receipts say read');
  assert.deepEqual(web.stateChanges, [], 'the receipts tell the pages, not the route');
  const listed = ((await alice.get('/api/messages')).json() as { messages: ApiMessage[] }).messages;
  assert.ok(listed.every((m) => m.state.read), 'nothing unread is left');
  const owner = await ownerLogin(web);
  assert.equal(((await owner.get('/api/messages/2')).json() as ApiMessage).state.read, false, "bob's message is not alice's to mark");
  assert.deepEqual((await alice.send('POST', '/api/messages/read-all')).json(), { marked: [], more: false, before: null }, 'a second call finds nothing to mark');
});

test('mark all read takes before= (what the page has shown), and is refused for a bad parameter, without a login, or without the CSRF token', async () => {
  const web = await fakeWeb({ messages: INBOX });
  const owner = await ownerLogin(web);
  assert.deepEqual((await owner.send('POST', '/api/messages/read-all?before=3')).json(), { marked: [2, 1], more: false, before: null }, 'only messages older than before');
  for (const url of ['/api/messages/read-all?before=x', '/api/messages/read-all?before=-1']) {
    const bad = await owner.send('POST', url);
    assert.deepEqual([bad.statusCode, bad.json()], [400, { status: 87, name: 'ERROR_INVALID_PARAMETER', message: 'before must be a whole number.' }], url);
  }
  assert.equal((await web.inject({ method: 'POST', url: '/api/messages/read-all' })).statusCode, 401);
  const forged = await owner.send('POST', '/api/messages/read-all', {}, { 'x-csrf-token': undefined });
  assert.equal(forged.statusCode, 403);
  assert.equal((await owner.send('POST', '/api/messages/read-all', {}, { origin: 'http://attacker.example' })).statusCode, 403);
  assert.equal(web.receipts.length, 2, 'the refused calls marked nothing');
  // an API client with a token needs no CSRF token, as for a single read
  const header = await web.inject({ method: 'POST', url: '/api/messages/read-all', headers: { authorization: 'Bearer monitor-token' } });
  assert.deepEqual([header.statusCode, header.json()], [200, { marked: [3], more: false, before: null }], "monitor sees the workgroup's message (which before=3 left), not alice's or bob's");
  assert.equal((await web.inject({ method: 'GET', url: '/api/messages/read-all', headers: { authorization: 'Bearer monitor-token' } })).statusCode, 404, 'a GET changes nothing');
});

test('mark all read is bounded per call, in messages marked and in messages looked at; the answer says where to go on until all are read', async () => {
  const many = READ_ALL_LIMITS.mark * 2 + 50;
  const web = await fakeWeb({ messages: Array.from({ length: many }, (_, i) => ({ from: 'BOB', to: 'ALICE', text: `message ${i + 1}` })) });
  const alice = await login(web, { user: 'alice', password: 'alice-pw' });
  const first = (await alice.send('POST', '/api/messages/read-all')).json() as { marked: number[]; more: boolean; before: number };
  assert.deepEqual([first.marked.length, first.marked[0], first.more, first.before], [READ_ALL_LIMITS.mark, many, true, many - READ_ALL_LIMITS.mark + 1]);
  const second = (await alice.send('POST', `/api/messages/read-all?before=${first.before}`)).json() as { marked: number[]; more: boolean; before: number };
  assert.deepEqual([second.marked.length, second.marked[0], second.more], [READ_ALL_LIMITS.mark, first.before - 1, true]);
  const third = (await alice.send('POST', `/api/messages/read-all?before=${second.before}`)).json() as { marked: number[]; more: boolean };
  assert.deepEqual([third.marked.length, third.marked.at(-1), third.more], [50, 1, false]);
  assert.equal(web.receipts.length, many, 'each message once');

  // a long read history with one unread message at its end: looked at a bounded number per call
  const scanned = READ_ALL_LIMITS.scan + 100;
  const old = await fakeWeb({ messages: Array.from({ length: scanned }, (_, i) => ({ from: 'BOB', to: 'ALICE', text: `old ${i + 1}` })) });
  for (let id = 2; id <= scanned; id++) await old.context.receipts.record({ id, to: 'ALICE' }, 'read', 'desktop', null);
  const reader = await login(old, { user: 'alice', password: 'alice-pw' });
  const look = (await reader.send('POST', '/api/messages/read-all')).json() as { marked: number[]; more: boolean; before: number };
  assert.deepEqual(look, { marked: [], more: true, before: scanned - READ_ALL_LIMITS.scan + 1 });
  assert.deepEqual((await reader.send('POST', `/api/messages/read-all?before=${look.before}`)).json(), { marked: [1], more: false, before: null });
});
