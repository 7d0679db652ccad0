/** send, name, inbox, ack and receipt, run through runNetsend against a fake daemon: what the user sees. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SendInput } from '../lib/client.js';
import { NetApiError } from '../messenger/errors.js';
import type { Receipt } from '../messenger/events.js';
import type { MessageJson } from '../messenger/message.js';
import { classicDateTime } from '../messenger/message.js';
import { runCli } from './harness.test.helper.js';

const local = (iso: string) => classicDateTime(new Date(iso));

const message = (id: number, text = `message ${id}`): MessageJson => ({
  id,
  from: 'BOB',
  to: 'ALICE',
  text,
  receivedAt: '2026-11-25T10:31:05.000Z',
  via: 'local',
  verified: true,
  priority: 'normal',
  provenance: 'verified: sent by the local account bob',
});

test('send NAME TEXT: the message goes to the daemon, the classic result line is printed, exit 0', async () => {
  const sent: SendInput[] = [];
  const client = { send: async (input: SendInput) => (sent.push(input), { delivered: 'local' as const, id: 7 }) };
  const run = await runCli(['send', 'alice', 'lunch', 'is', 'here'], { client });
  assert.deepEqual([run.code, run.stdout, run.stderr, run.closed], [0, 'The message was successfully sent to ALICE.\nIts id is 7: `netsend receipt 7` tells what becomes of it.\n', '', 1]);
  assert.deepEqual(sent, [{ to: 'alice', text: 'lunch is here' }]);

  const json = await runCli(['send', 'alice', 'x', '--from', 'BOB', '--priority', '5', '--ttl', '60', '--json'], { client });
  assert.deepEqual([json.code, json.stdout], [0, '{"status":0,"delivered":"local","id":7}\n']);
  assert.deepEqual(sent.at(-1), { to: 'alice', text: 'x', from: 'BOB', priority: 'urgent', ttl: 60 });
});

test('send without text reads it from standard input, dropping the last newline', async () => {
  const sent: SendInput[] = [];
  const run = await runCli(['send', 'ALICE'], { client: { send: async (input: SendInput) => (sent.push(input), { delivered: 'local' as const, id: 1 }) }, input: 'from stdin\nsecond line\n' });
  assert.equal(run.code, 0);
  assert.equal(sent[0]?.text, 'from stdin\nsecond line');
});

test('send *, /domain:NAME and /users name their recipients; a lossy remote send warns on stderr', async () => {
  const broadcast = async () => ({ delivered: 'remote' as const });
  assert.equal((await runCli(['send', '*', 'hi'], { client: { broadcast } })).stdout, 'The message was successfully sent to all users of the workgroup.\n');
  assert.equal((await runCli(['send', '/DOMAIN:OFFICE', 'hi'], { client: { broadcast } })).stdout, 'The message was successfully sent to the domain OFFICE.\n');
  const alone = await runCli(['send', '*', 'hi'], { client: { broadcast: async () => ({ delivered: 'remote' as const, heardNowhere: true as const }) } });
  assert.deepEqual([alone.code, alone.stderr], [0, 'netsend: this host is on loopback only ("interfaces", default lo): no other host heard the broadcast; this host\'s own users got it.\n']);
  const users = await runCli(['send', '/users', 'hi'], { client: { sendToUsers: async () => ({ delivered: 'remote' as const, recipients: 3 }) } });
  assert.equal(users.stdout, 'The message was successfully sent to 3 user(s) with a session on this server.\n');
  const lossy = await runCli(['send', 'far', 'žluť'], { client: { send: async () => ({ delivered: 'remote' as const, lossy: true, charset: 'CP437' }) } });
  assert.equal(lossy.stderr, 'netsend: some characters have no equivalent in CP437; they were sent as their closest letter or "?".\n');
  assert.equal(lossy.code, 0);
});

test('send --wait: an acknowledged message prints who acknowledged it, exit 0', async () => {
  const acknowledged: Receipt = { id: 7, state: 'acknowledged', at: '2026-11-25T10:31:05.000Z', acknowledgedBy: 'alice', acknowledgedOn: 'desktop', surfaces: {} };
  const run = await runCli(['send', 'ALICE', 'hi', '--wait'], { client: { send: async () => ({ delivered: 'local' as const, id: 7 }), receipt: async () => acknowledged } });
  assert.equal(run.code, 0);
  assert.equal(run.stdout, `The message was successfully sent to ALICE.\nAcknowledged by alice on desktop at ${local('2026-11-25T10:31:05.000Z')}.\n`);
});

test('a send the daemon refuses prints the status and detail, exit 1, or the JSON envelope with --json', async () => {
  const client = { send: async () => Promise.reject(new NetApiError('NERR_NameNotFound', 'Nobody holds NOBODY.')) };
  const human = await runCli(['send', 'NOBODY', 'hi'], { client });
  assert.deepEqual([human.code, human.stdout, human.stderr], [1, '', 'The message alias could not be found on the network. (NERR_NameNotFound 2273)\nNobody holds NOBODY.\n']);
  const json = await runCli(['send', 'NOBODY', 'hi', '--json'], { client });
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), { status: 2273, name: 'NERR_NameNotFound', message: 'The message alias could not be found on the network. Nobody holds NOBODY.' });
});

test('name lists the aliases NET NAME style; name NAME /add and --add add it; name NAME shows its kind', async () => {
  const added: string[] = [];
  const names = {
    list: async () => [{ name: 'TESTHOST', kind: 'computer' as const }, { name: 'ALICE', kind: 'added' as const }],
    add: async (name: string) => (added.push(name), { name: name.toUpperCase(), kind: 'added' as const }),
    get: async (name: string) => ({ name: name.toUpperCase(), kind: 'added' as const }),
  };
  const list = await runCli(['name'], { client: { names } });
  assert.equal(list.stdout, `Name\n\n${'-'.repeat(79)}\nTESTHOST\nALICE\nThe command completed successfully.\n`);
  assert.deepEqual(JSON.parse((await runCli(['name', '--json'], { client: { names } })).stdout), [{ name: 'TESTHOST', kind: 'computer' }, { name: 'ALICE', kind: 'added' }]);
  for (const argv of [['name', 'carol', '/add'], ['name', 'dave', '--add']]) {
    const run = await runCli(argv, { client: { names } });
    assert.deepEqual([run.code, run.stdout], [0, 'The command completed successfully.\n'], argv.join(' '));
  }
  assert.deepEqual(added, ['carol', 'dave']);
  assert.equal((await runCli(['name', 'alice'], { client: { names } })).stdout, 'ALICE (added)\n');
});

test('name NAME --allow adds to the policy the daemon has; the policy is printed', async () => {
  const set: unknown[] = [];
  const policies = {
    get: async () => ({ allow: ['user:bob'], deny: [] }),
    set: async (_name: string, policy: unknown) => (set.push(policy), { legacy: 'none' as const, allow: ['user:bob', 'group:staff'], deny: [] }),
  };
  const run = await runCli(['name', 'alice', '--allow', 'group:staff', '--legacy', 'none'], { client: { policies } });
  assert.equal(run.code, 0);
  assert.deepEqual(set, [{ legacy: 'none', allow: ['user:bob', 'group:staff'], deny: [] }]);
  assert.equal(run.stdout, 'ALICE\n  legacy input: none\n  allow: user:bob group:staff\n  deny: (no one)\n');
});

test('inbox --limit N asks for the newest N and shows them the classic way, with their ids, who really sent them, priority and title', async () => {
  const asked: number[] = [];
  const titled: MessageJson = { ...message(5, 'line 1\nline 2'), priority: 'urgent', title: 'Backup' };
  const run = await runCli(['inbox', '--limit', '2'], { client: { inbox: { latest: async (limit: number) => (asked.push(limit), [message(4), titled]) } } });
  assert.equal(run.code, 0);
  assert.deepEqual(asked, [2]);
  const header = (id: number) => `Message from BOB to ALICE on \\d{1,2}/\\d{1,2}/\\d{4} \\d{1,2}:\\d{2}:\\d{2} [AP]M  \\[id ${id}\\]\n\\(verified: sent by the local account bob\\)\n`;
  assert.match(run.stdout, new RegExp(`^${header(4)}\nmessage 4\n\nURGENT ${header(5)}Title: Backup\n\nline 1\nline 2\n\n$`));
});

test('inbox --json prints one JSON line a message, paging through the whole inbox', async () => {
  const pages = new Map([[0, [message(1), message(2)]], [2, [message(3)]]]);
  const afterIds: number[] = [];
  const list = async ({ afterId = 0 } = {}) => (afterIds.push(afterId), pages.get(afterId) ?? []);
  const run = await runCli(['inbox', '--json'], { client: { inbox: { list } } });
  assert.equal(run.code, 0);
  assert.deepEqual(afterIds, [0, 2, 3]);
  assert.deepEqual(run.stdout.trim().split('\n').map((line) => JSON.parse(line) as MessageJson), [message(1), message(2), message(3)]);
});

test('inbox --limit beyond a page prints the newest N, newest last, reading little more than those N', async () => {
  // a fake daemon holding messages 1..5000 that serves pages as the real one does, and counts what it hands out
  const all = Array.from({ length: 5000 }, (_, i) => message(i + 1));
  let read = 0;
  const inbox = {
    latest: async (limit: number, before?: number) => {
      const page = all.filter((m) => before === undefined || m.id < before).slice(-Math.min(limit, 1000));
      return (read += page.length), page;
    },
    list: async ({ afterId = 0, limit = 1000 } = {}) => {
      const page = all.filter((m) => m.id > afterId).slice(0, Math.min(limit, 1000));
      return (read += page.length), page;
    },
  };
  const run = await runCli(['inbox', '--limit', '2500', '--json'], { client: { inbox } });
  assert.equal(run.code, 0);
  const ids = run.stdout.trim().split('\n').map((line) => (JSON.parse(line) as MessageJson).id);
  assert.deepEqual(ids, Array.from({ length: 2500 }, (_, i) => 2501 + i));
  // back over the 2,500 to find where they start, then forward over them: not the 2,500 before
  assert.ok(read <= 2 * 2500, `read ${read} messages to print 2,500`);

  const fewer = await runCli(['inbox', '--limit', '9000', '--json'], { client: { inbox } });
  assert.equal(fewer.stdout.trim().split('\n').length, 5000);

  // a daemon older than this command ignores `before`: the same newest 2,500, read the slow way
  const older = { ...inbox, latest: async (limit: number) => all.slice(-Math.min(limit, 1000)) };
  const slow = await runCli(['inbox', '--limit', '2500', '--json'], { client: { inbox: older } });
  assert.deepEqual(slow.stdout.trim().split('\n').map((line) => (JSON.parse(line) as MessageJson).id), ids);
});

test('ack ID … acknowledges each; ack or receipt of a message that is not there is ERROR_NOT_FOUND, exit 1', async () => {
  const receiptOf = (id: number): Receipt => ({ id, state: 'acknowledged', at: null, surfaces: {} });
  const ok = await runCli(['ack', '3', '4'], { client: { acknowledge: async (id: number) => receiptOf(id) } });
  assert.deepEqual([ok.code, ok.stdout], [0, 'Message 3 acknowledged.\nMessage 4 acknowledged.\n']);

  const ack = await runCli(['ack', '9'], { client: { acknowledge: async () => Promise.reject(new NetApiError('ERROR_NOT_FOUND', 'No message 9 for you is here.')) } });
  assert.deepEqual([ack.code, ack.stdout, ack.stderr], [1, '', 'Element not found. (ERROR_NOT_FOUND 1168)\nNo message 9 for you is here.\n']);
  const receipt = await runCli(['receipt', '9', '--json'], { client: { receipt: async () => Promise.reject(new NetApiError('ERROR_NOT_FOUND', 'No message 9 of yours is here.')) } });
  assert.equal(receipt.code, 1);
  assert.deepEqual(JSON.parse(receipt.stdout), { status: 1168, name: 'ERROR_NOT_FOUND', message: 'Element not found. No message 9 of yours is here.' });
});

test('receipt ID prints the state, who acknowledged it, and each surface', async () => {
  const receipt: Receipt = {
    id: 7,
    state: 'acknowledged',
    at: '2026-11-25T10:31:05.000Z',
    acknowledgedBy: 'alice',
    acknowledgedOn: 'cli',
    surfaces: { terminal: { state: 'shown', by: null, at: '2026-11-25T10:30:00.000Z' }, cli: { state: 'acknowledged', by: 'alice', at: '2026-11-25T10:31:05.000Z' } },
  };
  const hosts: Array<string | undefined> = [];
  const run = await runCli(['receipt', '7', '--at', 'far:4500'], { client: { receipt: async (_id: number, host?: string) => (hosts.push(host), receipt) } });
  assert.equal(run.code, 0);
  assert.deepEqual(hosts, ['far:4500']);
  assert.equal(
    run.stdout,
    // people read local time; --json keeps ISO 8601
    `Message 7: acknowledged at ${local('2026-11-25T10:31:05.000Z')} by alice on cli\n  terminal: shown at ${local('2026-11-25T10:30:00.000Z')}\n  cli: acknowledged (alice) at ${local('2026-11-25T10:31:05.000Z')}\n`,
  );
  assert.deepEqual(JSON.parse((await runCli(['receipt', '7', '--json'], { client: { receipt: async () => receipt } })).stdout), receipt);
});

test('an empty inbox says so, as NET did; with --json it prints nothing (JSON Lines of no message)', async () => {
  const empty = { inbox: { latest: async () => [], list: async () => [] } };
  assert.equal((await runCli(['inbox'], { client: empty })).stdout, 'There are no entries in the list.\n');
  assert.equal((await runCli(['inbox', '--limit', '5'], { client: empty })).stdout, 'There are no entries in the list.\n');
  assert.equal((await runCli(['inbox', '--json'], { client: empty })).stdout, '');
});
