/** The hub's outbox on the SQLite store: kept until the hub holds it, receipts folded in, a second delivery is the same message. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { senderOf } from '../messenger/sender.js';
import { Outbox, type Publish } from './outbox.js';
import { withStore } from '../../test/helpers/sqlite-store.js';

/** The sender, asking for its own receipts. */
const ALICE = { name: 'alice', administrator: false };

/** An outbox entry to SITEB, for waitFor. */
const toSiteB = (id: number, envelopeId: string) => ({ id, envelopeId, subject: 'netsend.r.SITEB.msg.SITEA' });

/** alice's message `envelopeId` to SITEB, added to the outbox: what a send publishes. */
async function added(outbox: Outbox, envelopeId: string) {
  const entry = { envelopeId, subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' };
  return { ...entry, id: await outbox.add(entry) };
}

const receipt = (ref: string, state: string, surface = 'desktop', by: string | null = 'alice') => JSON.stringify({ ref, state, surface, by, at: '2026-12-06T05:00:00.000Z' });

test('a message past its time to live is not sent: it is marked expired', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const late = await outbox.add({ envelopeId: 'e-late', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: Date.now() - 1, senderUser: 'alice' });
    const fresh = await outbox.add({ envelopeId: 'e-fresh', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: Date.now() + 60_000, senderUser: 'alice' });
    assert.deepEqual((await outbox.waiting(10)).map((e) => e.id), [fresh]);
    assert.equal((await outbox.receipt(late, ALICE))?.state, 'expired');
  }));

test('a sent message waits in the outbox, oldest first, until the hub holds it', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const first = await outbox.add({ envelopeId: 'e-1', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{"sealed":1}', expiresAt: null, senderUser: 'alice' });
    const second = await outbox.add({ envelopeId: 'e-2', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{"sealed":2}', expiresAt: null, senderUser: 'alice' });
    assert.deepEqual((await outbox.waiting(10)).map((e) => e.id), [first, second]);
    assert.equal(await outbox.pending(), 2);
    await store.hub.markPublished([first]);
    assert.deepEqual((await outbox.waiting(10)).map((e) => e.envelopeId), ['e-2']);
    assert.equal((await outbox.receipt(first, ALICE))?.state, 'queued');
    assert.equal((await outbox.receipt(first, ALICE))?.inOutbox, undefined, 'the hub holds it');
    assert.equal((await outbox.receipt(second, ALICE))?.inOutbox, true, 'it waits here still');
  }));

test('the store commits outbox writes together, and a read asked after them, before their commit, sees them', () =>
  withStore(async (store) => {
    const adds = Array.from({ length: 3 }, (_, i) => store.hub.addOutgoing({ envelopeId: `e-${i}`, subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: null }));
    // not awaited: asked in the order a caller wrote them
    const counted = store.hub.countWaitingOutgoing();
    assert.deepEqual(await Promise.all(adds), [1, 2, 3]);
    assert.equal(await counted, 3);
  }));

test('receipts move a message forward, never back; acknowledged says by whom and where; junk is ignored', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const id = await outbox.add({ envelopeId: 'e-9', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' });
    const waiting = outbox.waitFor(toSiteB(id, 'e-9'), 'stored', 2000);
    await outbox.applyReceipt(receipt('e-9', 'stored', 'hub', null), 'SITEB');
    assert.equal(await waiting, 'stored');
    await outbox.applyReceipt(receipt('e-9', 'acknowledged'), 'SITEB');
    await outbox.applyReceipt(receipt('e-9', 'shown', 'tty'), 'SITEB');
    await outbox.applyReceipt('not json', 'SITEB');
    await outbox.applyReceipt(receipt('e-unknown', 'read'), 'SITEB');
    await outbox.applyReceipt(receipt('e-9', 'exploded'), 'SITEB');
    // a host the message did not go to has no say in its receipt
    await outbox.applyReceipt(receipt('e-9', 'expired'), 'MALLORY');
    const got = await outbox.receipt(id, ALICE);
    assert.equal(got?.state, 'acknowledged');
    assert.equal(got?.acknowledgedBy, 'alice');
    assert.equal(got?.acknowledgedOn, 'desktop');
    assert.deepEqual(Object.keys(got?.surfaces ?? {}).sort(), ['desktop', 'tty']);
    assert.equal(await outbox.pending(), 0, 'a receipt means the hub had it');
    assert.equal(await outbox.waitFor(toSiteB(id, 'e-9'), 'read', 10), 'acknowledged');
    assert.equal(await outbox.receipt(id + 1, ALICE), null);
  }));

test('receipts that arrive together are applied together: each counts, in order, in one write for the burst', () =>
  withStore(async (store) => {
    let writes = 0;
    const counted = { ...store.hub, saveOutgoingStates: (states: Parameters<typeof store.hub.saveOutgoingStates>[0]) => ((writes += 1), store.hub.saveOutgoingStates(states)) };
    const outbox = new Outbox(counted);
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) ids.push(await outbox.add({ envelopeId: `e-${i}`, subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' }));
    const waits = ids.map((id, i) => outbox.waitFor(toSiteB(id, `e-${i}`), 'stored', 2000));
    // a burst: forty stored receipts, and two later states of the first message, none awaited before the next
    await Promise.all([
      ...ids.map((_, i) => outbox.applyReceipt(receipt(`e-${i}`, 'stored', 'hub', null), 'SITEB')),
      outbox.applyReceipt(receipt('e-0', 'shown', 'tty'), 'SITEB'),
      outbox.applyReceipt(receipt('e-0', 'acknowledged'), 'SITEB'),
    ]);
    assert.deepEqual(await Promise.all(waits), ids.map(() => 'stored'), 'each wait hears its message got there');
    assert.ok(writes <= 2, `${writes} writes for one burst of receipts`);
    const first = await outbox.receipt(ids[0] as number, ALICE);
    assert.equal(first?.state, 'acknowledged');
    assert.deepEqual(Object.keys(first?.surfaces ?? {}).sort(), ['desktop', 'tty'], 'both surfaces kept: none overwrote the other');
    assert.equal((await outbox.receipt(ids[39] as number, ALICE))?.state, 'stored');
  }));

test('receipts batched in one envelope apply in their order; junk among them is skipped, the rest still count', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const ids: number[] = [];
    for (const ref of ['e-a', 'e-b']) ids.push(await outbox.add({ envelopeId: ref, subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' }));
    const events = [receipt('e-a', 'stored', 'hub', null), '"junk"', receipt('e-a', 'shown', 'tty'), '{"ref":7}', receipt('e-b', 'stored', 'hub', null), receipt('e-a', 'read', 'tty')];
    await outbox.applyReceipt(`[${events.join(',')}]`, 'SITEB');
    const [a, b] = await Promise.all(ids.map((id) => outbox.receipt(id, ALICE)));
    assert.equal(a?.state, 'read');
    assert.equal(a?.surfaces.tty?.state, 'read', 'the later event on a surface is the one kept');
    assert.equal(b?.state, 'stored');
  }));

test("a refusal by the recipient's host ends a wait at once, with its status and words, and the receipt keeps them", () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const id = await outbox.add({ envelopeId: 'e-no', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' });
    const waiting = outbox.waitFor(toSiteB(id, 'e-no'), 'stored', 10_000);
    const refused = { ref: 'e-no', state: 'refused', surface: 'hub', by: null, at: '2026-12-06T05:00:00.000Z', refusal: { status: 5, message: 'Access is denied. DAVE takes messages only from host:NOBODY.' } };
    // a refusal without its words is no receipt: skipped
    await outbox.applyReceipt(JSON.stringify([{ ...refused, refusal: { status: 'x' } }, refused]), 'SITEB');
    assert.equal(await waiting, 'refused');
    const got = await outbox.receipt(id, ALICE);
    assert.deepEqual([got?.state, got?.refusal], ['refused', { status: 5, message: 'Access is denied. DAVE takes messages only from host:NOBODY.' }]);
    assert.equal(await outbox.waitFor(toSiteB(id, 'e-no'), 'stored', 10), 'refused', 'asked again, it is still refused, at once');
  }));

test('a message stored from the hub is found by its origin; a second delivery of it is the same message, stored once', () =>
  withStore(async (store) => {
    const message = { from: 'BOB', to: 'ALICE', text: 'once', via: 'netsend' as const, sender: senderOf({ host: { name: 'SITEB', fingerprint: 'SHA256:x' } }), origin: 'env-1' };
    const first = await store.messages.append(message);
    const again = await store.messages.append(message);
    assert.equal(again.id, first.id);
    assert.deepEqual([first.duplicate, again.duplicate], [undefined, true], 'the second copy is marked, so that it is not shown again');
    assert.equal(await store.hub.messageByOrigin('env-1'), first.id);
    assert.equal(await store.hub.messageByOrigin('env-2'), null);
    assert.equal((await store.messages.list({ afterId: 0, limit: 10 })).length, 1);
    assert.equal((await store.messages.getMessage(first.id))?.origin, 'env-1');
  }));

test("a hub receipt is its sender's: another user is told there is no such message; an administrator sees it", () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const id = await outbox.add({ envelopeId: 'e-own', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' });
    assert.equal((await outbox.receipt(id, ALICE))?.state, 'queued');
    assert.equal(await outbox.receipt(id, { name: 'bob', administrator: false }), null);
    assert.equal(await outbox.receipt(id, { name: null, administrator: false }), null);
    assert.equal((await outbox.receipt(id, { name: 'root', administrator: true }))?.state, 'queued');
  }));

test("what became of a message that came through the hub is owed to its sender's host until the hub holds the receipt; a LAN message's is not", () =>
  withStore(async (store) => {
    const fromHub = await store.messages.append({ from: 'BOB', to: 'ALICE', text: 'through the hub', via: 'netsend', sender: senderOf({ host: { name: 'SITEB', fingerprint: 'SHA256:x' } }), origin: 'env-owed' });
    const fromLan = await store.messages.append({ from: 'BOB', to: 'ALICE', text: 'on the LAN', via: 'smb', sender: senderOf({ address: '192.0.2.7', port: 139 }) });
    const shown = await store.events.recordMessageEvent({ messageId: fromHub.id, state: 'shown', surface: 'tty', by: null });
    await store.events.recordMessageEvent({ messageId: fromLan.id, state: 'shown', surface: 'tty', by: null });
    const acked = await store.events.recordMessageEvent({ messageId: fromHub.id, state: 'acknowledged', surface: 'web', by: 'alice' });
    const owed = await store.hub.owedReceipts(0, 10);
    assert.deepEqual(owed.map((o) => [o.event.id, o.event.state, o.message.origin, o.message.sender.host?.name]), [
      [shown?.id, 'shown', 'env-owed', 'SITEB'],
      [acked?.id, 'acknowledged', 'env-owed', 'SITEB'],
    ]);
    assert.equal(await store.hub.countOwedReceipts(), 2);
    await store.hub.receiptsTold([shown?.id ?? 0]);
    assert.deepEqual((await store.hub.owedReceipts(0, 10)).map((o) => o.event.state), ['acknowledged']);
    assert.deepEqual(await store.hub.owedReceipts(acked?.id ?? 0, 10), [], 'read on after a cursor');
  }));

test('messages sent in one turn go straight out together, in one publish; a drain started meanwhile sends none of them again', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const calls: string[][] = [];
    const publish: Publish = async (entries) => {
      calls.push(entries.map((entry) => entry.envelopeId));
      return entries.map(() => ({ status: 'fulfilled', value: true }));
    };
    const drain = () => outbox.drain(publish, () => true);
    // an empty outbox: what is sent next may go straight out
    await drain();
    const entries = await Promise.all(['s-1', 's-2', 's-3'].map((envelopeId) => added(outbox, envelopeId)));
    const published = entries.map((entry) => outbox.publish(entry, publish, drain));
    const draining = drain();
    assert.deepEqual(await Promise.all(published), [true, true, true]);
    await draining;
    assert.deepEqual(calls, [['s-1', 's-2', 's-3']], 'one publish of the three; the drain found them marked');
    assert.equal(await outbox.pending(), 0);
  }));

test('while the hub refuses (a leader election), sends do not each start a drain: they wait for the next one, and the refusal is logged once', () =>
  withStore(async (store) => {
    // a back-off no slow machine outlasts; the drain that gets through ends it
    const outbox = new Outbox(store.hub, { backOffMs: 60_000 });
    let refusing = true;
    let publishes = 0;
    const publish: Publish = async (entries) => {
      publishes++;
      return entries.map(() => (refusing ? { status: 'rejected', reason: new Error('JetStreamNotEnabled: jetstream is not enabled') } : { status: 'fulfilled', value: true }));
    };
    const logged: string[] = [];
    const drain = () => outbox.drain(publish, () => true, (line) => logged.push(line));
    const send = async (envelopeId: string) => outbox.publish(await added(outbox, envelopeId), publish, drain);
    assert.equal(await send('x-1'), false, 'refused: it waits in the outbox');
    const afterFirst = publishes;
    assert.deepEqual(await Promise.all(['x-2', 'x-3', 'x-4', 'x-5'].map(send)), [false, false, false, false]);
    assert.equal(publishes, afterFirst, 'no publish for each send while the hub has just refused');
    await drain();
    await drain();
    assert.deepEqual(logged, ['hub: messages wait in the outbox: Error: JetStreamNotEnabled: jetstream is not enabled'], 'said once, not at each drain');
    refusing = false;
    await drain();
    assert.equal(await outbox.pending(), 0, "the hub's next drain sends them all");
    assert.equal(logged.at(-1), 'hub: the hub takes messages again; the outbox is being sent');
    assert.equal(await send('x-6'), true, 'the hub takes messages again: a send goes out at once, the back-off over');
  }));

test('a drain that throws (a read that failed) keeps later sends behind what it left, and is logged once, then its end', () =>
  withStore(async (store) => {
    let failingReads = 0;
    const flaky = {
      ...store.hub,
      waitingOutgoing: async (limit: number) => {
        if (failingReads > 0) {
          failingReads--;
          throw new Error('disk I/O error');
        }
        return store.hub.waitingOutgoing(limit);
      },
    };
    const outbox = new Outbox(flaky, { backOffMs: 60_000 });
    const calls: string[][] = [];
    const publish: Publish = async (entries) => {
      calls.push(entries.map((entry) => entry.envelopeId));
      return entries.map(() => ({ status: 'fulfilled', value: true }));
    };
    const logged: string[] = [];
    const drain = () => outbox.drain(publish, () => true, (line) => logged.push(line)).catch(() => {});
    // caught up: a send may go straight out
    await drain();
    const [first, second] = [await added(outbox, 't-1'), await added(outbox, 't-2')];
    failingReads = 2;
    const failing = drain();
    assert.equal(await outbox.publish(first, publish, drain), false, 'it joined the drain that failed');
    await failing;
    assert.equal(await outbox.publish(second, publish, drain), false, 'not straight out, ahead of the first');
    assert.deepEqual(calls, []);
    failingReads = 0;
    await drain();
    assert.deepEqual(calls, [['t-1', 't-2']], 'in order, together');
    assert.deepEqual(logged, ['hub: the outbox could not be sent yet: Error: disk I/O error', 'hub: the hub takes messages again; the outbox is being sent']);
  }));

test('once the back-off after a refusal is over, a send starts a drain again', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub, { backOffMs: 20 });
    let refusing = true;
    const publish: Publish = async (entries) => entries.map(() => (refusing ? { status: 'rejected', reason: new Error('refused') } : { status: 'fulfilled', value: true }));
    const drain = () => outbox.drain(publish, () => true);
    const send = async (envelopeId: string) => outbox.publish(await added(outbox, envelopeId), publish, drain);
    assert.equal(await send('y-1'), false);
    refusing = false;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await send('y-2'), true, 'its own drain sends it, behind the one that waited');
    assert.equal(await outbox.pending(), 0);
  }));

test('a message the hub did not take when it went straight out waits for the drain, and goes with it', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    let hubAway = false;
    const calls: string[][] = [];
    const publish: Publish = async (entries) => {
      calls.push(entries.map((entry) => entry.envelopeId));
      return entries.map(() => ({ status: 'fulfilled', value: !hubAway }));
    };
    const drain = () => outbox.drain(publish, () => true);
    await drain();
    const entry = { envelopeId: 'w-1', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' };
    const id = await outbox.add(entry);
    hubAway = true;
    assert.equal(await outbox.publish({ ...entry, id }, publish, drain), false, 'the hub away: it waits in the outbox');
    assert.equal(await outbox.pending(), 1);
    hubAway = false;
    await drain();
    assert.equal(await outbox.pending(), 0);
    assert.deepEqual(calls.at(-1), ['w-1']);
  }));

test('a wait for a receipt ends at once when the publish says the hub did not take the message, unless its receipt came already', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const id = await outbox.add({ envelopeId: 'e-away', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' });
    const started = Date.now();
    assert.equal(await outbox.waitFor(toSiteB(id, 'e-away'), 'stored', 5000, Promise.resolve(false)), null);
    assert.ok(Date.now() - started < 1000, 'no receipt can come for a message the hub does not hold: not waited for');
    // a publish whose answer was lost (a timeout) after the hub took it: the receipt came all the same
    let answer: (taken: boolean) => void = () => {};
    const publishing = new Promise<boolean>((resolve) => (answer = resolve));
    const waiting = outbox.waitFor(toSiteB(id, 'e-away'), 'stored', 5000, publishing);
    await outbox.applyReceipt(receipt('e-away', 'stored', 'hub', null), 'SITEB');
    answer(false);
    assert.equal(await waiting, 'stored');
  }));

test("a sender waiting hears its receipt as it comes, not after the receipts ahead of it are written; another host's word does not count", () =>
  withStore(async (store) => {
    let release: () => void = () => {};
    const slowDisk = new Promise<void>((resolve) => (release = resolve));
    // the first batch's commit stalls until released
    const stalled = { ...store.hub, saveOutgoingStates: async (states: Parameters<typeof store.hub.saveOutgoingStates>[0]) => (await slowDisk, store.hub.saveOutgoingStates(states)) };
    const outbox = new Outbox(stalled);
    const [first, second] = [await outbox.add({ envelopeId: 'e-1', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' }), await outbox.add({ envelopeId: 'e-2', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' })];
    const waiting = outbox.waitFor(toSiteB(second, 'e-2'), 'stored', 5000);
    const applied = [outbox.applyReceipt(receipt('e-1', 'stored', 'hub', null), 'SITEB')];
    await new Promise((resolve) => setImmediate(resolve));
    applied.push(outbox.applyReceipt(receipt('e-2', 'stored', 'hub', null), 'MALLORY'));
    assert.equal(await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 50))]), 'still waiting', "another host's word does not count");
    applied.push(outbox.applyReceipt(receipt('e-2', 'stored', 'hub', null), 'SITEB'));
    const heard = await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000))]);
    assert.equal(heard, 'stored');
    release();
    await Promise.all(applied);
    assert.deepEqual(await Promise.all([first, second].map(async (id) => (await outbox.receipt(id, ALICE))?.state)), ['stored', 'stored']);
  }));

test('a sender waiting hears nothing early about a message whose refusal is not written yet: a later word from the same host does not overtake it', () =>
  withStore(async (store) => {
    const outbox = new Outbox(store.hub);
    const id = await outbox.add({ envelopeId: 'e-both', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' });
    const waiting = outbox.waitFor(toSiteB(id, 'e-both'), 'stored', 5000);
    const refused = { ref: 'e-both', state: 'refused', surface: 'hub', by: null, at: '2026-12-06T05:00:00.000Z', refusal: { status: 5, message: 'Access is denied.' } };
    // a host contradicting itself: refused, then stored, before either is written
    await Promise.all([outbox.applyReceipt(JSON.stringify(refused), 'SITEB'), outbox.applyReceipt(receipt('e-both', 'stored', 'hub', null), 'SITEB')]);
    assert.equal(await waiting, 'refused', 'the sender hears what is written down');
    assert.equal((await outbox.receipt(id, ALICE))?.state, 'refused');
  }));

test('a refusal whose batch could not be read holds nothing back after it: a later receipt is heard as it comes', () =>
  withStore(async (store) => {
    let failReads = true;
    let release: () => void = () => {};
    const slowDisk = new Promise<void>((resolve) => (release = resolve));
    const flaky = {
      ...store.hub,
      outgoingByEnvelopes: async (ids: readonly string[]) => {
        if (failReads) {
          failReads = false;
          throw new Error('disk I/O error');
        }
        return store.hub.outgoingByEnvelopes(ids);
      },
      // every later commit stalls until released: only an early word reaches the sender before that
      saveOutgoingStates: async (states: Parameters<typeof store.hub.saveOutgoingStates>[0]) => (await slowDisk, store.hub.saveOutgoingStates(states)),
    };
    const outbox = new Outbox(flaky);
    const id = await outbox.add({ envelopeId: 'e-r', subject: 'netsend.r.SITEB.msg.SITEA', envelope: '{}', expiresAt: null, senderUser: 'alice' });
    const refused = { ref: 'e-r', state: 'refused', surface: 'hub', by: null, at: '2026-12-06T05:00:00.000Z', refusal: { status: 5, message: 'Access is denied.' } };
    await assert.rejects(outbox.applyReceipt(JSON.stringify(refused), 'SITEB'), /disk I\/O error/);
    const waiting = outbox.waitFor(toSiteB(id, 'e-r'), 'stored', 5000);
    const applied = outbox.applyReceipt(receipt('e-r', 'stored', 'hub', null), 'SITEB');
    assert.equal(await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000))]), 'stored');
    release();
    await applied;
  }));
