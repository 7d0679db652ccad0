/** The message gate of the front door (message-gate.ts): the same limits for every way in, fair under floods. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRANSPORTS, type Knock, type Transport } from '../messenger/admission.js';
import { MessageGate } from './message-gate.js';
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
    toLocalAlias: true,
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

test('a flood from 500 addresses, each at exactly its own rate, does not crowd out a slow sender: all 100 of its messages get through', () => {
  let now = 0;
  const gate = new MessageGate(LIMITS, { now: () => now });
  let legit = 0;
  let flood = 0;
  let tries = 0;
  // 1,200 s: each flooder sends 5 a second (its own rate: its bucket never runs dry), the slow
  // sender one every 12 s (the alias's fair share is 50/s over 501 senders: one every 10 s)
  for (let tick = 0; tick < 6000; tick++) {
    now = tick * 200;
    for (let source = 0; source < 500; source++) {
      tries++;
      if (gate.admit(knock('smb', { address: `10.1.${source >> 8}.${source & 255}` })) === null) flood++;
    }
    if (tick % 60 === 0 && gate.admit(knock('smb', { address: '10.2.0.1' })) === null) legit++;
  }
  assert.equal(legit, 100);
  // the shared caps hold: the alias's 50/s (lower than the global 500/s), its burst and the reserve
  assert.ok(flood <= 50 * 1200 + 200 + 2500, `${flood} of ${tries} flood messages admitted`);
});

test('a sender as fast as each flooder shares the cap with them: no better, no worse', () => {
  let now = 0;
  const gate = new MessageGate({ ...LIMITS, globalRate: 100 }, { now: () => now });
  const admitted = new Map<string, number>();
  for (let tick = 0; tick < 500; tick++) {
    now = tick * 200;
    for (let source = 0; source < 51; source++) {
      const address = `10.5.0.${source}`;
      if (gate.admit(knock('smb', { address, to: `A${source % 5}` })) === null) admitted.set(address, (admitted.get(address) ?? 0) + 1);
    }
  }
  const counts = [...admitted.values()];
  assert.ok(Math.max(...counts) <= 3 * Math.min(...counts), `shares between ${Math.min(...counts)} and ${Math.max(...counts)}`);
});

test('one alias has its own cap from all sources together; a source within its fair share draws on the reserve', () => {
  const gate = new MessageGate({ ...LIMITS, globalRate: 10_000 }, { now: () => 0 });
  // ten sources bursting 20 each: the alias's burst (10 x 20) is gone
  for (let i = 0; i < 10; i++) for (let j = 0; j < 20; j++) assert.equal(gate.admit(knock('smb', { address: `10.3.0.${i}` })), null);
  assert.equal(gate.admit(knock('smb', { address: '10.3.1.1' })), null, 'a new source, within its share, passes');
  const again = [gate.admit(knock('smb', { address: '10.3.1.1' })), gate.admit(knock('smb', { address: '10.3.1.1' }))];
  assert.equal(again[1]?.reason, 'ALICE receives too many messages now; try again later', 'past its share (two at once), it is refused');
  assert.equal(gate.admit(knock('smb', { address: '10.3.1.1', to: 'BOB' })), null, 'another alias is not affected');
});

test('anonymous IPv6 senders are known by their /64: fresh addresses on one link are one sender', () => {
  const gate = new MessageGate(LIMITS, { now: () => 0 });
  const outcomes = Array.from({ length: 40 }, (_, i) => gate.admit(knock('smb', { address: `2001:db8:0:1::${(i + 1).toString(16)}` })));
  assert.equal(outcomes.filter((o) => o === null).length, 20, 'one budget for the whole /64');
  assert.match(outcomes.at(-1)?.reason ?? '', /sends too fast/);
  assert.equal(gate.admit(knock('smb', { address: '2001:db8:0:2::1' })), null, 'another /64 is another sender');
});

test('a send to a name that is not an alias here meets the sender\'s budget, and no alias budget is kept for it', () => {
  const gate = new MessageGate(LIMITS, { now: () => 0 });
  const outcomes = Array.from({ length: 30 }, (_, i) => gate.admit(knock('web', { to: `REMOTE${i}`, toLocalAlias: false })));
  assert.equal(outcomes.filter((o) => o === null).length, 20);
});
