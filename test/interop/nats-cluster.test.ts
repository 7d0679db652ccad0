/**
 * The engine under the hub (issue 14): a real 3-node nats-server 2.9 JetStream cluster on
 * loopback, started and stopped by test/helpers/nats.ts. An R3 stream keeps every message, once,
 * when its leader is killed with SIGKILL in the middle of a burst: publishes during the election
 * fail ("jetstream is not enabled", timeouts) and are retried with the same message id, which the
 * stream deduplicates. This is the behaviour the hub's outbox relies on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { NatsCluster, natsServerUnavailable } from '../helpers/nats.js';

const skip = natsServerUnavailable();
const STREAM = 'BURST';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('a 3-node JetStream cluster on loopback', { skip: skip ?? false, timeout: 60_000 }, () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let startedMs = 0;

  before(async () => {
    const t0 = Date.now();
    cluster = await NatsCluster.start({ nodes: 3 });
    startedMs = Date.now() - t0;
    nc = await connect({ servers: cluster.urls, name: 'nats-cluster.test', reconnectTimeWait: 100, maxReconnectAttempts: -1, timeout: 5_000 });
    js = jetstream(nc, { timeout: 2_000 });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  /** Publishes message `i` with its own id, retrying (bounded) while the stream has no leader. */
  async function publish(i: number, deadline: number): Promise<{ attempts: number; duplicate: boolean }> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= 200 && Date.now() < deadline; attempt++) {
      try {
        const ack = await js.publish(`burst.${i}`, `message ${i}`, { msgID: `m-${i}`, timeout: 2_000 });
        assert.equal(ack.stream, STREAM);
        return { attempts: attempt, duplicate: ack.duplicate };
      } catch (error) {
        lastError = error;
        await sleep(100);
      }
    }
    throw new Error(`message ${i} not stored before the deadline`, { cause: lastError });
  }

  test('an R3 stream keeps every message exactly once when its leader is killed -9 mid-burst', async (t) => {
    t.diagnostic(`cluster ready in ${startedMs} ms (${cluster.urls.join(',')}, pids ${cluster.nodes.map((n) => n.pid).join(',')})`);
    await jsm.streams.add({ name: STREAM, subjects: ['burst.>'], num_replicas: 3, duplicate_window: 120_000_000_000 });
    const leader = await cluster.waitForLeader(STREAM, { timeoutMs: 10_000 });
    t.diagnostic(`stream leader ${leader.name} (pid ${leader.pid}); meta leader ${await cluster.metaLeader()}`);

    const deadline = Date.now() + 25_000;
    for (let i = 0; i < 100; i++) {
      const result = await publish(i, deadline);
      assert.equal(result.duplicate, false, `message ${i} stored as new`);
    }

    // The second hundred goes out 8 at a time, and the leader is killed -9 once 10 of them are
    // acknowledged: some publishes are in flight at the kill, and a message stored just before it
    // whose ack was lost comes back from its retry as a duplicate (stored once all the same).
    let killedAt = 0;
    let killing: Promise<void> | undefined;
    let acked = 0;
    let retried = 0;
    let duplicates = 0;
    let lastAck = 0;
    let stallMs = 0; // the longest gap between two acks after the kill: the election
    let next = 100;
    const worker = async () => {
      while (next < 200) {
        const i = next++;
        const result = await publish(i, deadline);
        retried += result.attempts - 1;
        if (result.duplicate) duplicates++;
        if (killedAt > 0) {
          stallMs = Math.max(stallMs, Date.now() - Math.max(lastAck, killedAt));
          lastAck = Date.now();
        }
        if (++acked === 10) {
          killedAt = Date.now();
          killing = leader.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await killing;
    assert.ok(killedAt > 0);
    assert.equal(leader.running, false);
    const newLeader = await cluster.waitForLeader(STREAM, { not: leader.name, timeoutMs: 10_000 });
    t.diagnostic(`SIGKILL of ${leader.name} mid-burst: no ack for ${stallMs} ms (the election), burst done ${Date.now() - killedAt} ms after the kill, ${retried} retries, ${duplicates} retries answered as duplicates; new leader ${newLeader.name}`);
    assert.notEqual(newLeader.name, leader.name);

    const info = await jsm.streams.info(STREAM);
    assert.equal(info.state.messages, 200);
    assert.equal(info.state.first_seq, 1);
    assert.equal(info.state.last_seq, 200, 'no sequence spent on a duplicate');
    const ids = new Map<string, number>();
    for (let seq = 1; seq <= 200; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq });
      assert.ok(message, `sequence ${seq} present`);
      const id = message.header.get('Nats-Msg-Id');
      ids.set(id, (ids.get(id) ?? 0) + 1);
      assert.equal(message.string(), `message ${id.slice(2)}`);
    }
    assert.equal(ids.size, 200);
    for (let i = 0; i < 200; i++) assert.equal(ids.get(`m-${i}`), 1, `m-${i} stored exactly once`);

    // The killed node comes back on the same ports and store and catches up: every replica ends up
    // with all 200. Polled: a follower learns the commit of the last message only with the
    // leader's next heartbeat (about 1 s later), so its /jsz may say 199 for a while.
    const restartAt = Date.now();
    await leader.restart();
    t.diagnostic(`${leader.name} restarted (pid ${leader.pid}) and healthy in ${Date.now() - restartAt} ms`);
    let counts: Array<number | undefined> = [];
    for (let attempt = 0; attempt < 100 && Date.now() - restartAt < 10_000; attempt++) {
      counts = await Promise.all(cluster.nodes.map(async (n) => (await n.streamDetail(STREAM))?.state.messages));
      if (counts.every((c) => c === 200)) break;
      await sleep(100);
    }
    t.diagnostic(`every replica holds 200 after ${Date.now() - restartAt} ms`);
    assert.deepEqual(counts, [200, 200, 200]);
  });
});
