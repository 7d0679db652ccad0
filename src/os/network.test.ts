/** InterfaceWatcher (network.ts): the host's addresses read once, then followed, against a fake host. */
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { InterfaceWatcher, type InterfaceChange } from './network.js';

const v4 = (address: string): NetworkInterfaceInfo => ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: null });

test('the watcher reads the addresses once at start, then reports each change once, with what came and what went', async () => {
  let host: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
  const log: string[] = [];
  const changes: InterfaceChange[] = [] as InterfaceChange[];
  const watcher = new InterfaceWatcher({ specs: ['eth0'], read: () => host, log: (line) => log.push(line) });
  watcher.start(async (change) => void changes.push(change));
  assert.equal(watcher.addresses.length, 0);
  assert.deepEqual(log, ['interfaces: eth0 matches no address of this host now; waiting for it to come up']);

  await watcher.scan();
  assert.deepEqual(changes.map((c) => c.added.length), [], 'nothing changed, nothing reported');
  assert.equal(log.length, 1, 'the waiting is said once, not on every scan');

  host = { eth0: [v4('10.0.0.5')] };
  await watcher.scan();
  assert.deepEqual(changes.map((c) => [c.added.map((a) => a.host), c.removed.map((a) => a.host), c.addresses.map((a) => a.host)]), [[['10.0.0.5'], [], ['10.0.0.5']]]);
  assert.equal(log.at(-1), 'interfaces changed: now on 10.0.0.5 (eth0); 1 address in use');

  host = { eth0: [v4('10.0.0.6')] };
  await watcher.scan();
  assert.equal(log.at(-1), 'interfaces changed: now on 10.0.0.6 (eth0); gone 10.0.0.5 (eth0); 1 address in use');
  assert.deepEqual(watcher.addresses.map((a) => a.host), ['10.0.0.6']);
  await watcher.stop();
});

test('a change that fails is logged and tried again at the next scan', async () => {
  let host: NodeJS.Dict<NetworkInterfaceInfo[]> = { eth0: [v4('10.0.0.5')] };
  const log: string[] = [];
  let failures = 1;
  const applied: string[][] = [];
  const watcher = new InterfaceWatcher({ specs: ['eth0'], read: () => host, log: (line) => log.push(line) });
  watcher.start(async (change) => {
    if (failures-- > 0) throw new Error('EADDRINUSE');
    applied.push(change.removed.map((a) => a.host));
  });
  host = {};
  await watcher.scan();
  assert.equal(log.at(-1), 'applying the interface change failed (tried again at the next scan): EADDRINUSE');
  assert.deepEqual(watcher.addresses.map((a) => a.host), ['10.0.0.5'], 'the old list stays');
  await watcher.scan();
  assert.deepEqual(applied, [['10.0.0.5']], 'the same change, applied at the next scan');
  assert.equal(watcher.addresses.length, 0);
  await watcher.stop();
});

test('started, the watcher rescans on its own until stopped', async () => {
  let reads = 0;
  const watcher = new InterfaceWatcher({ specs: ['lo'], read: () => (reads++, {}), log: () => {}, scanMs: 10 });
  watcher.start(async () => {});
  await new Promise((resolve) => setTimeout(resolve, 100));
  await watcher.stop();
  const after = reads;
  assert.ok(after >= 3, `scanned ${after} times in 100 ms`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(reads, after, 'no scan after stop');
});
