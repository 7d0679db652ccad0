/** The message gate of the front door (front-door.ts): the same limits for every way in, fair under floods. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageGate, TRANSPORTS, type Knock, type Transport } from './front-door.js';
import type { AuditEntry } from './audit.js';

const LIMITS = { sourceRate: 5, sourceBurst: 20, globalRate: 500 };

function knock(over: Transport, overrides: Partial<Knock> = {}): Knock {
  const network = over !== 'local';
  return {
    over,
    address: network ? '10.0.0.9' : null,
    account: over === 'smb' || over === 'mailslot' ? null : over === 'netsend' ? null : 'ops',
    uid: over === 'local' ? 1002 : null,
    hostKey: over === 'netsend' ? 'SHA256:abc' : null,
    localAdministrator: false,
    to: 'ALICE',
    bytes: 10,
    ...overrides,
  };
}

test('a burst of 200 gets the same outcome over every transport: the burst of 20 passes, the rest is refused and audited', () => {
  for (const over of TRANSPORTS) {
    const audit: AuditEntry[] = [];
    const gate = new MessageGate(LIMITS, { audit: { record: (entry) => audit.push(entry) }, now: () => 0 });
    const outcomes = Array.from({ length: 200 }, () => gate.admit(knock(over)));
    assert.equal(outcomes.filter((o) => o === null).length, 20, over);
    const refused = outcomes.find((o) => o !== null);
    assert.equal(refused?.status, 'NERR_NameInUse', over);
    assert.match(refused?.reason ?? '', /sends too fast; try again later$/, over);
    assert.equal(audit.length, 180, `${over}: every refusal goes to the audit log (which rate limits what it writes)`);
    assert.equal(audit[0]?.event, 'refused-rate');
  }
});

test('the local administrator (root, the daemon user) is not rate limited; a local user is, by uid', () => {
  const gate = new MessageGate(LIMITS, { now: () => 0 });
  assert.equal(Array.from({ length: 500 }, () => gate.admit(knock('local', { localAdministrator: true }))).filter((o) => o !== null).length, 0);
  const user = Array.from({ length: 50 }, () => gate.admit(knock('local', { account: null, uid: 1002 })));
  assert.equal(user.filter((o) => o === null).length, 20);
  assert.match(user.at(-1)?.reason ?? '', /^uid 1002 sends too fast/);
});

test('one account is one budget whichever way it comes in (web, ntfy, secure, control socket)', () => {
  const gate = new MessageGate(LIMITS, { now: () => 0 });
  const ways: Transport[] = ['web', 'ntfy', 'secure', 'local'];
  const outcomes = Array.from({ length: 40 }, (_, i) => gate.admit(knock(ways[i % 4] as Transport, { address: `10.0.0.${i}` })));
  assert.equal(outcomes.filter((o) => o === null).length, 20);
});

test('a flood from 500 addresses does not crowd out a slow legitimate sender: all of its 100 messages get through', () => {
  let now = 0;
  const gate = new MessageGate(LIMITS, { now: () => now });
  let legit = 0;
  let flood = 0;
  // 100 s: each flooder tries 10 messages a second, the legitimate sender one.
  for (let tick = 0; tick < 1000; tick++) {
    now = tick * 100;
    for (let source = 0; source < 500; source++) if (gate.admit(knock('smb', { address: `10.1.${source >> 8}.${source & 255}` })) === null) flood++;
    if (tick % 10 === 0 && gate.admit(knock('smb', { address: '10.2.0.1' })) === null) legit++;
  }
  assert.equal(legit, 100);
  // the shared cap holds: at most the global rate plus its burst and its reserve
  assert.ok(flood <= 500 * 100 + 2 * 2500, `${flood} flood messages admitted`);
});

test('one alias has its own cap from all sources together: heavy senders are refused at it, light ones draw on its reserve', () => {
  const gate = new MessageGate({ ...LIMITS, globalRate: 10_000 }, { now: () => 0 });
  // ten sources bursting 20 each: the alias's burst (10 x 20) is gone
  for (let i = 0; i < 10; i++) for (let j = 0; j < 20; j++) assert.equal(gate.admit(knock('smb', { address: `10.3.0.${i}` })), null);
  assert.match(gate.admit(knock('smb', { address: '10.3.1.1', to: 'ALICE' })) === null ? 'light: admitted' : 'refused', /^light: admitted$/);
  const burst = [gate.admit(knock('smb', { address: '10.3.1.1' })), gate.admit(knock('smb', { address: '10.3.1.1' }))];
  assert.equal(burst[1]?.reason, 'ALICE receives too many messages now; try again later', 'a source bursting is heavy');
  assert.equal(gate.admit(knock('smb', { address: '10.3.1.1', to: 'BOB' })), null, 'another alias is not affected');
});
