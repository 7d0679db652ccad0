/** TcpListeners (tcp-listeners.ts): one server per address, kept in step with the host's addresses. */
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { test } from 'node:test';
import { TcpListeners } from './tcp-listeners.js';

/** A listener set on port 0; `made.count` is how many servers it has made (one per bind attempt). */
const listeners = (log: string[] = [], made = { count: 0 }) =>
  new TcpListeners({ port: 0, create: () => (made.count++, createServer((s) => s.write('hi'))), log: (line) => log.push(line), what: 'test' });

test('update opens a server per new address and closes those of addresses gone', async () => {
  const log: string[] = [];
  const set = listeners(log);
  await set.update(['127.0.0.1'], true);
  assert.equal(set.endpoints.length, 1);
  assert.match(set.endpoints[0] as string, /^127\.0\.0\.1:\d+$/);
  await set.update(['127.0.0.1', '::1']);
  assert.deepEqual(set.endpoints.map((e) => e.replace(/:\d+$/, '')), ['127.0.0.1', '[::1]']);
  assert.match(log.at(-1) as string, /^test: now listening on \[::1\]:0$/);
  await set.update(['::1']);
  assert.deepEqual(set.endpoints.map((e) => e.replace(/:\d+$/, '')), ['[::1]']);
  assert.equal(log.at(-1), 'test: no longer listening on 127.0.0.1:0');
  await set.close();
  assert.deepEqual(set.endpoints, []);
});

test('an address the host does not have yet (EADDRNOTAVAIL, as a tentative IPv6 address) does not fail the start; it is tried again while wanted', async () => {
  const log: string[] = [];
  const made = { count: 0 };
  const set = listeners(log, made);
  // 192.0.2.1 (TEST-NET-1) is on no interface here: the kernel says EADDRNOTAVAIL, as for a tentative address
  await set.update(['127.0.0.1', '192.0.2.1'], true);
  assert.equal(set.endpoints.length, 1);
  assert.ok(log.includes('test: 192.0.2.1 is not ready yet (duplicate address detection?); trying again'));
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const tried = made.count;
  assert.ok(tried >= 3, `bound again while wanted (${tried} servers made)`);
  await set.update(['127.0.0.1']);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.ok(made.count <= tried + 1, 'no more tries once the address is no longer wanted');
  await set.close();
});

test('other bind errors fail a strict update, and are logged on later ones', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  const log: string[] = [];
  const set = new TcpListeners({ port, create: () => createServer(), log: (line) => log.push(line), what: 'test' });
  await assert.rejects(set.update(['127.0.0.1'], true), { code: 'EADDRINUSE' });
  await set.update(['127.0.0.1']);
  assert.equal(log.at(-1), `test: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  await set.close();
  await new Promise<void>((resolve) => holder.close(() => resolve()));
});

test('a server taken out of the set stops accepting, and lets its open connections go on', async () => {
  const set = listeners();
  await set.update(['127.0.0.1'], true);
  const port = Number((set.endpoints[0] as string).split(':').at(-1));
  const socket = connect(port, '127.0.0.1');
  const greeting = await new Promise<string>((resolve) => socket.setEncoding('utf8').once('data', (data: string) => resolve(data)));
  assert.equal(greeting, 'hi');
  await set.update([]);
  assert.deepEqual(set.endpoints, []);
  assert.equal(socket.destroyed, false, 'the open connection is still there');
  const refused = await new Promise<string>((resolve) => connect(port, '127.0.0.1').once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? '')).once('connect', () => resolve('connected')));
  assert.equal(refused, 'ECONNREFUSED');
  socket.destroy();
  await set.close();
});
