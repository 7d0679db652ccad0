/** `netsend status`: the daemon's listeners, aliases and hub, as text and as JSON. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classicDateTime } from '../messenger/message.js';
import { runCli } from './harness.test.helper.js';

const STATUS = {
  computerName: 'GHOST',
  workgroup: 'WORKGROUP',
  role: 'standalone server' as const,
  pid: 4242,
  startedAt: '2026-12-06T05:00:00.000Z',
  hostKey: 'SHA256:abc',
  listeners: [
    { transport: 'smb', endpoints: ['10.0.0.5:139', '[fe80::1%eth0]:139'] },
    { transport: 'names', endpoints: [] },
    { transport: 'control', endpoints: ['/run/netsend/control.sock'] },
  ],
  aliases: [
    { name: 'GHOST', kind: 'computer' as const },
    { name: 'ALICE', kind: 'user' as const },
  ],
  hub: { state: 'off' as const },
};

test('netsend status prints each listener (off when it has no endpoint), the aliases and the hub', async () => {
  const asked: string[] = [];
  const run = await runCli(['status'], { client: { call: (async (op: string) => (asked.push(op), STATUS)) as never } });
  assert.deepEqual(asked, ['daemon.status']);
  assert.equal(run.code, 0);
  assert.equal(run.stderr, '');
  assert.equal(
    run.stdout,
    [
      `GHOST in workgroup WORKGROUP (standalone server), pid 4242, started ${classicDateTime(new Date('2026-12-06T05:00:00.000Z'))}`,
      'host key SHA256:abc',
      'smb      10.0.0.5:139, [fe80::1%eth0]:139',
      'names    off',
      'control  /run/netsend/control.sock',
      'aliases: GHOST (computer), ALICE (user)',
      'hub: off',
      '',
    ].join('\n'),
  );
});

test('netsend status --json prints the daemon.status result as one JSON line; an argument is a usage error', async () => {
  const run = await runCli(['status', '--json'], { client: { call: (async () => STATUS) as never } });
  assert.equal(run.code, 0);
  assert.deepEqual(JSON.parse(run.stdout), STATUS);
  const bad = await runCli(['status', 'now']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^netsend: netsend status \[--json\]\n/);
});
