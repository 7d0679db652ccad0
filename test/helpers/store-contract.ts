/**
 * What every store (src/store/ports.ts) promises its consumers, as node:test tests: run against
 * the SQLite store and the memory store (src/store/contract.test.ts), so a fake that passes it
 * behaves like the real thing where the daemon, Messenger, Receipts, the web inbox and the
 * account and audit code rely on it. Times the store takes itself are checked against the clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageEventInput } from '../../src/messenger/events.js';
import type { IncomingMessage, MessageQuery } from '../../src/messenger/message.js';
import type { SweepCursor } from '../../src/messenger/receipts.js';
import { senderOf } from '../../src/messenger/sender.js';
import type { StorePorts } from '../../src/store/ports.js';

const incoming = (text: string, fields: Partial<IncomingMessage> = {}): IncomingMessage => ({
  from: 'BOB', to: 'ALICE', text, via: 'local', sender: senderOf({ uid: 1000 }), ...fields,
});
const ALL: MessageQuery = { beforeId: null, afterId: 0, limit: 100, text: null, recipients: null };

/** Registers the contract's tests under `label`; each opens a fresh store and closes it after. */
export function storeContract(label: string, open: () => Promise<StorePorts>): void {
  const withStore = async (run: (store: StorePorts) => Promise<void>): Promise<void> => {
    const store = await open();
    try {
      await run(store);
    } finally {
      await store.close();
    }
  };
  const it = (name: string, run: (store: StorePorts) => Promise<void>) => test(name, () => withStore(run));

  describe(`${label}: messages`, () => {
    it('append resolves with increasing ids from 1, the message as given and a receivedAt of now', async ({ messages }) => {
      const before = Date.now();
      const given = incoming('one', { priority: 'normal', sender: senderOf({ uid: 1000, user: null }), expiresAt: null });
      const first = await messages.append(given);
      const second = await messages.append(incoming('two'));
      assert.deepEqual({ ...first, receivedAt: null }, { ...given, id: 1, receivedAt: null });
      assert.equal(second.id, 2);
      for (const m of [first, second]) assert.ok(m.receivedAt instanceof Date && m.receivedAt.getTime() >= before && m.receivedAt.getTime() <= Date.now());
    });

    it('list reads every field back, leaving out a normal priority and absent expiry; an absent sender user and host read back null', async ({ messages }) => {
      const plain = await messages.append(incoming('plain', { priority: 'normal', expiresAt: null }));
      const full = await messages.append(incoming('line\r\n é 😀 %_', { via: 'netsend', sender: senderOf({ address: '10.0.0.9', port: 445, user: 'bob', host: { name: 'HOSTB', fingerprint: 'sha256:x' } }), priority: 'urgent', expiresAt: 1e13 }));
      const { priority: _p, expiresAt: _e, ...bare } = plain;
      assert.deepEqual(await messages.list({ afterId: 0, limit: 10 }), [bare, full]);
      assert.deepEqual(await messages.getMessage(full.id), full);
      assert.equal(await messages.getMessage(99), null, 'a missing id is null');
    });

    it('list pages oldest first by afterId and limit', async ({ messages }) => {
      for (let i = 1; i <= 5; i++) await messages.append(incoming(`m${i}`));
      const texts = async (afterId: number, limit: number) => (await messages.list({ afterId, limit })).map((m) => m.text);
      assert.deepEqual(await texts(0, 2), ['m1', 'm2']);
      assert.deepEqual(await texts(2, 2), ['m3', 'm4']);
      assert.deepEqual(await texts(4, 2), ['m5']);
      assert.deepEqual(await texts(5, 2), []);
      assert.deepEqual(await texts(0, 0), []);
    });

    it('list and latest filter by recipient without ASCII case (not other case), none for no recipients', async ({ messages }) => {
      for (const to of ['ALICE', 'CAROL', 'ÜMIT', 'alice', 'WORKGROUP']) await messages.append(incoming(to, { to }));
      const list = async (recipients: string[] | null) => (await messages.list({ afterId: 0, limit: 10, recipients })).map((m) => m.text);
      assert.deepEqual(await list(['Alice', 'workgroup']), ['ALICE', 'alice', 'WORKGROUP']);
      assert.deepEqual(await list(['ümit']), [], 'NOCASE folds ASCII only');
      assert.deepEqual(await list(['ÜMIT']), ['ÜMIT']);
      assert.deepEqual(await list([]), []);
      assert.equal((await list(null)).length, 5);
      assert.deepEqual((await messages.latest({ limit: 2, recipients: ['ALICE'] })).map((m) => m.text), ['ALICE', 'alice']);
      assert.deepEqual((await messages.latest({ limit: 1, recipients: ['alice'] })).map((m) => m.text), ['alice']);
      assert.deepEqual(await messages.latest({ limit: 5, recipients: [] }), []);
    });

    it('latest is the newest N, oldest first', async ({ messages }) => {
      assert.deepEqual(await messages.latest({ limit: 3 }), []);
      for (let i = 1; i <= 5; i++) await messages.append(incoming(`m${i}`));
      assert.deepEqual((await messages.latest({ limit: 3 })).map((m) => m.text), ['m3', 'm4', 'm5']);
      assert.deepEqual((await messages.latest({ limit: 10 })).map((m) => m.text), ['m1', 'm2', 'm3', 'm4', 'm5']);
      assert.deepEqual(await messages.latest({ limit: 3 }), (await messages.list({ afterId: 2, limit: 10 })));
      // a page further back: the newest N below an id
      const [m3] = await messages.latest({ limit: 3 });
      assert.deepEqual((await messages.latest({ limit: 3, beforeId: m3?.id ?? 0 })).map((m) => m.text), ['m1', 'm2']);
    });

    it('findMessages pages newest first and searches text and names as literal text, ASCII without case', async ({ messages }) => {
      for (let i = 1; i <= 4; i++) await messages.append(incoming(`note ${i}`, { to: i % 2 === 0 ? 'ALICE' : 'CAROL' }));
      await messages.append(incoming('100% done_ok', { from: 'Zoë', to: 'WORKGROUP' }));
      const find = async (query: Partial<MessageQuery>) => (await messages.findMessages({ ...ALL, ...query })).map((m) => m.text);
      assert.deepEqual(await find({ limit: 2 }), ['100% done_ok', 'note 4']);
      assert.deepEqual(await find({ beforeId: 3 }), ['note 2', 'note 1']);
      assert.deepEqual(await find({ afterId: 3, beforeId: 5 }), ['note 4']);
      assert.deepEqual(await find({ recipients: ['alice'] }), ['note 4', 'note 2']);
      assert.deepEqual(await find({ text: 'NOTE 3' }), ['note 3']);
      assert.deepEqual(await find({ text: 'carol' }), ['note 3', 'note 1'], 'the recipient is searched');
      assert.deepEqual(await find({ text: 'ZOË' }), [], 'case folds for ASCII only');
      assert.deepEqual(await find({ text: 'zoë' }), ['100% done_ok'], 'the sender is searched');
      assert.deepEqual(await find({ text: '%' }), ['100% done_ok']);
      assert.deepEqual(await find({ text: 'e_o' }), ['100% done_ok']);
      assert.deepEqual(await find({ text: 'e_' }), ['100% done_ok'], '_ matches only itself');
      assert.equal((await find({ text: '' })).length, 5, 'empty text: no search');
      assert.deepEqual(await find({ recipients: [] }), []);
    });
  });

  describe(`${label}: events`, () => {
    const ev = (messageId: number, state: MessageEventInput['state'], surface: string, by: string | null = null): MessageEventInput => ({ messageId, state, surface, by });

    it('recordMessageEvent returns the event with an id and time; a repeated state is one more event; none for a missing message', async ({ messages, events }) => {
      const m = await messages.append(incoming('hello'));
      const before = Date.now();
      const acked = await events.recordMessageEvent(ev(m.id, 'acknowledged', 'web', 'alice'));
      const again = await events.recordMessageEvent(ev(m.id, 'acknowledged', 'web', 'alice'));
      assert.ok(acked !== null && again !== null);
      assert.deepEqual({ ...acked, id: 0, at: 0 }, { ...ev(m.id, 'acknowledged', 'web', 'alice'), id: 0, at: 0 });
      assert.ok(acked.at >= before && acked.at <= Date.now());
      assert.ok(again.id > acked.id, 'no duplicate rule: the log keeps both');
      assert.deepEqual(await events.listMessageEvents(m.id), [acked, again]);
      assert.equal(await events.recordMessageEvent(ev(m.id + 1, 'read', 'web')), null);
      assert.deepEqual(await events.listMessageEvents(m.id + 1), []);
    });

    it('recordMessageEvents records many at once, each as recordMessageEvent would, null for a missing message', async ({ messages, events }) => {
      const [a, b] = [await messages.append(incoming('a')), await messages.append(incoming('b'))];
      const recorded = await events.recordMessageEvents([ev(a.id, 'expired', 'store'), ev(b.id + 10, 'expired', 'store'), ev(b.id, 'expired', 'store')]);
      assert.deepEqual(recorded.map((e) => e && [e.messageId, e.state, e.surface]), [[a.id, 'expired', 'store'], null, [b.id, 'expired', 'store']]);
      assert.deepEqual(await events.listMessageEvents(b.id), [recorded[2]]);
      assert.deepEqual(await events.recordMessageEvents([]), []);
    });

    it('latestMessageStates: newest event overall, the furthest state per surface; messages without events left out', async ({ messages, events }) => {
      const [a, b, c] = [await messages.append(incoming('a')), await messages.append(incoming('b')), await messages.append(incoming('c'))];
      await events.recordMessageEvent(ev(b.id, 'delivered', 'web'));
      const acked = await events.recordMessageEvent(ev(a.id, 'acknowledged', 'web', 'alice'));
      await events.recordMessageEvent(ev(a.id, 'read', 'web', 'alice'));
      await events.recordMessageEvent(ev(a.id, 'shown', 'tty', 'pts/1'));
      const tty = await events.recordMessageEvent(ev(a.id, 'shown', 'tty', 'pts/2'));
      const bRead = await events.recordMessageEvent(ev(b.id, 'read', 'web', 'bob'));
      const states = await events.latestMessageStates([c.id, b.id, a.id, 999]);
      assert.deepEqual(states, [
        { messageId: a.id, latest: tty, surfaces: { web: acked, tty } },
        { messageId: b.id, latest: bRead, surfaces: { web: bRead } },
      ], 'in the order of their earliest chosen event, not of the ids asked for');
      assert.deepEqual(await events.latestMessageStates([]), []);
      await assert.rejects(events.latestMessageStates(Array.from({ length: 1001 }, (_, i) => i)), { name: 'RangeError', message: 'At most 1000 messages per state query' });
    });

    it('expiredMessages: unseen messages that expired after a cursor and by now, received before, first to expire first', async ({ messages, events }) => {
      const t = 2_000_000_000_000;
      const at = async (expiresAt: number | null, text = String(expiresAt)) => messages.append(incoming(text, { expiresAt }));
      const late = await at(t + 30);
      await at(t + 10, 'early');
      await at(null, 'never');
      const seen = await at(t + 20);
      const delivered = await at(t + 20, 'delivered');
      await at(t + 60, 'alive');
      await at(t, 'swept before');
      await events.recordMessageEvent(ev(seen.id, 'shown', 'tty'));
      await events.recordMessageEvent(ev(delivered.id, 'delivered', 'web'));
      const received = Date.now() + 1000;
      // `after` a time: every message that expired at it is behind the cursor
      const texts = async (after: number | SweepCursor, now: number, before: number, limit: number) =>
        (await events.expiredMessages(typeof after === 'number' ? { expiresAt: after, id: Number.MAX_SAFE_INTEGER } : after, now, before, limit)).map((m) => m.text);
      assert.deepEqual(await texts(t, t + 50, received, 10), ['early', 'delivered', String(t + 30)], 'a delivered but unshown message can expire');
      assert.deepEqual(await texts(t, t + 50, received, 2), ['early', 'delivered']);
      assert.deepEqual(await texts(t + 10, t + 30, received, 10), ['delivered', String(t + 30)]);
      assert.deepEqual(await texts(t, t + 50, 0, 10), [], 'received after the cut-off');
      await events.recordMessageEvent(ev(late.id, 'expired', 'store'));
      assert.deepEqual(await texts(t, t + 50, received, 10), ['early', 'delivered'], 'marked expired: not again');
      assert.deepEqual(await texts({ expiresAt: t + 20, id: delivered.id - 1 }, t + 50, received, 10), ['delivered'], 'after a cursor within one expiry time');
    });

    it('waitingMessages: unseen messages alive at now, walked in (expiresAt, id) pages from a cursor', async ({ messages, events }) => {
      const t = 2_000_000_000_000;
      for (const [text, expiresAt] of [['b1', t + 20], ['a', t + 10], ['b2', t + 20], ['gone', t], ['never', null], ['seen', t + 15], ['c', t + 30]] as const) {
        const m = await messages.append(incoming(text, { expiresAt }));
        if (text === 'seen') await events.recordMessageEvent(ev(m.id, 'read', 'web'));
      }
      const received = Date.now() + 1000;
      const walked: string[] = [];
      let cursor: { expiresAt: number; id: number } | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page = await events.waitingMessages(cursor, t, received, 2);
        if (page.length === 0) break;
        walked.push(...page.map((m) => m.text));
        const last = page.at(-1)!;
        cursor = { expiresAt: last.expiresAt!, id: last.id };
      }
      assert.deepEqual(walked, ['a', 'b1', 'b2', 'c']);
      assert.deepEqual((await events.waitingMessages({ expiresAt: t + 20, id: 1 }, t, received, 10)).map((m) => m.text), ['b2', 'c'], 'equal expiry: by id after the cursor');
      assert.deepEqual((await events.waitingMessages(null, t + 20, received, 10)).map((m) => m.text), ['c']);
      assert.deepEqual(await events.waitingMessages(null, t, 0, 10), [], 'received after the cut-off');
    });
  });

  describe(`${label}: accounts, audit, policies, aliases`, () => {
    it('accounts: put, get without case, groups, list, delete with memberships and tokens', async ({ accounts }) => {
      assert.equal(await accounts.getUser('ops'), null);
      await accounts.putUser('Ops', 'scrypt$hash');
      await accounts.putUser('OPS', null);
      await accounts.putUser('admin', 'h');
      await accounts.setMembership('ops', 'Server Operators', true);
      await accounts.setMembership('OPS', 'administrators', true);
      await accounts.setMembership('ops', 'SERVER OPERATORS', true);
      assert.deepEqual(await accounts.getUser('oPS'), { name: 'Ops', passwordHash: null, groups: ['administrators', 'Server Operators'] }, 'the first spelling stays; the password was replaced');
      await accounts.addToken('b'.repeat(64), 'ops');
      assert.deepEqual(await accounts.listUsers(), [
        { name: 'admin', groups: [], tokens: 0, hasPassword: true },
        { name: 'Ops', groups: ['administrators', 'Server Operators'], tokens: 1, hasPassword: false },
      ]);
      await accounts.setMembership('ops', 'ADMINISTRATORS', false);
      assert.deepEqual((await accounts.getUser('ops'))?.groups, ['Server Operators']);
      assert.equal(await accounts.deleteUser('OPS'), true);
      assert.equal(await accounts.deleteUser('ops'), false);
      assert.equal(await accounts.userForToken('b'.repeat(64)), null, 'its tokens went with it');
      await accounts.putUser('ops', null);
      assert.deepEqual((await accounts.getUser('ops'))?.groups, [], 'and its memberships');
    });

    it('tokens: add, find the user, list oldest first, delete some or all; a hash is unique', async ({ accounts }) => {
      await accounts.putUser('ops', null);
      const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string];
      await accounts.addToken(a, 'ops');
      await accounts.addToken(b, 'OPS', 'SHA256:key');
      assert.equal(await accounts.userForToken(b), 'OPS', 'the name as the token was given it');
      assert.equal(await accounts.userForToken(c), null);
      const listed = await accounts.listTokens('Ops');
      assert.deepEqual(listed.map((t) => [t.hash, t.hostKey]), [[a, null], [b, 'SHA256:key']]);
      assert.ok(listed.every((t) => typeof t.createdAt === 'number' && t.createdAt <= Date.now()));
      await assert.rejects(accounts.addToken(a, 'other'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
      await accounts.addToken(c, 'ops');
      assert.equal(await accounts.deleteTokens('ops', [a, a, 'd'.repeat(64)]), 1);
      assert.equal(await accounts.deleteTokens('other', null), 0);
      assert.equal(await accounts.deleteTokens('ops', null), 2);
      assert.deepEqual(await accounts.listTokens('ops'), []);
    });

    it('audit: append returns increasing ids; list pages by id with the time of each', async ({ audit }) => {
      const before = Date.now();
      const entry = (n: number) => ({ event: 'remote-call', principal: `p${n}`, source: n % 2 ? null : '10.0.0.9:445', detail: `d${n}`, status: n });
      const ids: number[] = [];
      for (let n = 1; n <= 5; n++) ids.push(await audit.appendAudit(entry(n)));
      assert.deepEqual(ids, [1, 2, 3, 4, 5]);
      const page = await audit.listAudit(1, 2);
      assert.deepEqual(page.map((r) => ({ ...r, at: 0 })), [{ ...entry(2), id: 2, at: 0 }, { ...entry(3), id: 3, at: 0 }]);
      assert.ok(page.every((r) => r.at >= before && r.at <= Date.now()));
      assert.deepEqual((await audit.listAudit(3, 10)).map((r) => r.id), [4, 5]);
      assert.deepEqual(await audit.listAudit(5, 10), []);
    });

    it('policies: put, replace, load by name, delete with null', async ({ policies }) => {
      assert.deepEqual(await policies.loadAliasPolicies(), []);
      await policies.putAliasPolicy('HELPDESK', '{"allow":[]}');
      await policies.putAliasPolicy('ALICE', '{"legacy":"none"}');
      await policies.putAliasPolicy('HELPDESK', '{"allow":["ops"]}');
      assert.deepEqual(await policies.loadAliasPolicies(), [{ name: 'ALICE', policy: '{"legacy":"none"}' }, { name: 'HELPDESK', policy: '{"allow":["ops"]}' }]);
      await policies.putAliasPolicy('ALICE', null);
      await policies.putAliasPolicy('NOBODY', null);
      assert.deepEqual(await policies.loadAliasPolicies(), [{ name: 'HELPDESK', policy: '{"allow":["ops"]}' }]);
    });

    it('aliases: none added in a new store (frozen); save, save again and delete resolve', async ({ aliases }) => {
      assert.deepEqual(aliases.addedAliases, []);
      assert.ok(Object.isFrozen(aliases.addedAliases));
      await aliases.saveAlias('CAROL', 1000);
      await aliases.saveAlias('CAROL', null);
      await aliases.deleteAlias('CAROL');
      await aliases.deleteAlias('NOBODY');
    });

    it('after close every port rejects saying the store is closed; close again resolves', async (store) => {
      await store.messages.append(incoming('before'));
      await store.close();
      await assert.rejects(store.messages.append(incoming('late')), /The store is closed/);
      await assert.rejects(store.messages.list({ afterId: 0, limit: 1 }), /The store is closed/);
      await assert.rejects(store.events.latestMessageStates([1]), /The store is closed/);
      await assert.rejects(store.accounts.getUser('ops'), /The store is closed/);
      await assert.rejects(store.audit.listAudit(0, 1), /The store is closed/);
      await assert.rejects(store.policies.loadAliasPolicies(), /The store is closed/);
      await assert.rejects(store.aliases.saveAlias('LATE', null), /The store is closed/);
      await store.close();
    });
  });
}
