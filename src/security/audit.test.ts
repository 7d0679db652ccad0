import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog, sourceAddress, type AuditEntry, type AuditRecord, type AuditStore } from './audit.js';

class MemoryAudit implements AuditStore {
  readonly records: AuditRecord[] = [];
  async appendAudit(entry: AuditEntry): Promise<number> {
    this.records.push({ ...entry, id: this.records.length + 1, at: Date.now() });
    return this.records.length;
  }
  async listAudit(afterId: number, limit: number): Promise<AuditRecord[]> {
    return this.records.filter((r) => r.id > afterId).slice(0, limit);
  }
}

test('refusals are recorded up to a burst per source, then counted and reported with the next one taken', async () => {
  const store = new MemoryAudit();
  // one token every 100 ms: none comes back during the loop, one has after the pause
  const log = new AuditLog(store, () => {}, { ratePerSecond: 10, burst: 3 });
  const refusal = { event: 'refused-message', principal: 'SPAMMER', source: '10.0.0.66:1', detail: 'to ALICE', status: 5 };
  for (let i = 0; i < 10; i++) log.record(refusal);
  log.record({ ...refusal, source: '10.0.0.7:1' });
  await new Promise((resolve) => setTimeout(resolve, 120));
  log.record(refusal);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.records.filter((r) => r.source === '10.0.0.66:1').length, 4);
  assert.equal(store.records.filter((r) => r.source === '10.0.0.7:1').length, 1, 'another source has its own budget');
  assert.match(store.records.at(-1)?.detail ?? '', /and 7 more like it not recorded/);
});

test('remote calls are always recorded, and a failing store never throws into the caller', async () => {
  const store = new MemoryAudit();
  const log = new AuditLog(store, () => {}, { ratePerSecond: 0.001, burst: 1 });
  for (let i = 0; i < 5; i++) log.record({ event: 'remote-call', principal: 'user bob', source: null, detail: 'send ALICE', status: 0 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.records.length, 5);
  const lines: string[] = [];
  const broken = new AuditLog({ appendAudit: () => Promise.reject(new Error('disk full')), listAudit: async () => [] }, (l) => lines.push(l));
  broken.record({ event: 'remote-call', principal: 'user bob', source: null, detail: 'x', status: 0 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.match(lines[0] ?? '', /disk full/);
});

test('refusals from one address share one budget whatever port each connection came from (IPv4 and IPv6); each record keeps its full source', async () => {
  const store = new MemoryAudit();
  const log = new AuditLog(store, () => {}, { ratePerSecond: 0.001, burst: 3 });
  for (let port = 40000; port < 40010; port++) log.record({ event: 'refused-logon', principal: 'user admin', source: `10.0.0.66:${port}`, detail: 'bad credentials', status: 5 });
  for (let port = 40000; port < 40010; port++) log.record({ event: 'refused-logon', principal: 'user admin', source: `fd00::66:${port}`, detail: 'bad credentials', status: 5 });
  log.record({ event: 'refused-logon', principal: 'user admin', source: '10.0.0.67:40000', detail: 'bad credentials', status: 5 });
  log.record({ event: 'refused-logon', principal: 'user admin', source: 'fd00::67:40000', detail: 'bad credentials', status: 5 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    store.records.map((r) => r.source),
    ['10.0.0.66:40000', '10.0.0.66:40001', '10.0.0.66:40002', 'fd00::66:40000', 'fd00::66:40001', 'fd00::66:40002', '10.0.0.67:40000', 'fd00::67:40000'],
  );
});

test('sourceAddress strips the port of IPv4, IPv6 and bracketed sources, and leaves a bare address alone', () => {
  assert.equal(sourceAddress('10.0.0.5:139'), '10.0.0.5');
  assert.equal(sourceAddress('::ffff:10.0.0.5:4139'), '10.0.0.5');
  assert.equal(sourceAddress('fd00::5:4139'), 'fd00::5');
  assert.equal(sourceAddress('[fd00::5]:4139'), 'fd00::5');
  assert.equal(sourceAddress('::1:50000'), '::1');
  assert.equal(sourceAddress('10.0.0.5'), '10.0.0.5');
  assert.equal(sourceAddress('fd00::5'), 'fd00::5');
  assert.equal(sourceAddress('HOSTB'), 'HOSTB');
});
