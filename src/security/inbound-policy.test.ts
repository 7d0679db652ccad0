import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NetApiError } from '../messenger/errors.js';
import { senderOf } from '../messenger/sender.js';
import { InboundPolicy, SubnetSet, parsePolicy, ruleProblem, subnetOf, type SenderFacts } from './inbound-policy.js';

const facts = (over: Partial<SenderFacts> = {}): SenderFacts => ({ address: null, user: null, groups: [], host: null, ...over });
const smb = (address: string) => ({ via: 'smb' as const, sender: senderOf({ address, port: 40000 }) });
const netsend = (address: string, port: number) => ({ via: 'netsend' as const, sender: senderOf({ address, port }) });
const local = { via: 'local' as const, sender: senderOf() };

test('legacy input: all takes anyone, subnets only the listed ones, none only verified messages', () => {
  const subnets = new SubnetSet(['10.77.0.0/24', '127.0.0.0/8', '::1/128']);
  const all = new InboundPolicy({ legacy: 'all', legacySubnets: subnets });
  const some = new InboundPolicy({ legacy: 'subnets', legacySubnets: subnets });
  const none = new InboundPolicy({ legacy: 'none', legacySubnets: subnets });
  assert.equal(all.problem(smb('203.0.113.9'), 'ALICE', facts({ address: '203.0.113.9' })), null);
  assert.equal(some.problem(smb('10.77.0.3'), 'ALICE', facts({ address: '10.77.0.3' })), null);
  assert.equal(some.problem(smb('::ffff:10.77.0.3'), 'ALICE', facts({ address: '::ffff:10.77.0.3' })), null, 'IPv4-mapped addresses match IPv4 subnets');
  assert.equal(some.problem(smb('::1'), 'ALICE', facts({ address: '::1' })), null);
  assert.match(some.problem(smb('10.78.0.3'), 'ALICE', facts({ address: '10.78.0.3' })) ?? '', /only from 10\.77\.0\.0\/24/);
  assert.match(none.problem(smb('10.77.0.3'), 'ALICE', facts({ address: '10.77.0.3' })) ?? '', /no unauthenticated/);
  assert.equal(none.problem(local, 'ALICE', facts()), null, 'local messages are verified by the kernel');
  assert.equal(none.problem(netsend('10.9.9.9', 4139), 'ALICE', facts({ address: '10.9.9.9', host: 'HOSTB' })), null);
});

test("an alias's legacy setting overrides the host's, in both directions", () => {
  const policy = new InboundPolicy({ legacy: 'all', legacySubnets: new SubnetSet([]) });
  policy.set('ALICE', { legacy: 'none', allow: [], deny: [] });
  policy.set('HELPDESK', { legacy: 'all', allow: [], deny: [] });
  assert.notEqual(policy.problem(smb('10.0.0.1'), 'ALICE', facts({ address: '10.0.0.1' })), null);
  assert.equal(policy.problem(smb('10.0.0.1'), 'BOB', facts({ address: '10.0.0.1' })), null);
  const strict = new InboundPolicy({ legacy: 'none', legacySubnets: new SubnetSet([]), policies: new Map([['HELPDESK', { legacy: 'all' as const, allow: [], deny: [] }]]) });
  assert.equal(strict.problem(smb('10.0.0.1'), 'HELPDESK', facts({ address: '10.0.0.1' })), null);
});

test('allow and deny lists: users, groups, hosts, subnets and addresses; deny wins; a non-empty allow list admits only what it names', () => {
  const policy = new InboundPolicy({ legacy: 'all', legacySubnets: new SubnetSet([]) });
  policy.set('ALICE', parsePolicy({ allow: ['user:bob', 'group:Helpdesk', 'host:HOSTB', 'subnet:10.1.0.0/16'], deny: ['address:10.1.2.3', 'user:mallory'] }));
  assert.equal(policy.problem(local, 'ALICE', facts({ user: 'BOB' })), null, 'user names compare case-insensitively');
  assert.equal(policy.problem(local, 'ALICE', facts({ user: 'carol', groups: ['helpdesk'] })), null);
  assert.equal(policy.problem(netsend('192.0.2.1', 1), 'ALICE', facts({ host: 'hostb', address: '192.0.2.1' })), null);
  assert.equal(policy.problem(smb('10.1.9.9'), 'ALICE', facts({ address: '10.1.9.9' })), null);
  assert.match(policy.problem(smb('10.1.2.3'), 'ALICE', facts({ address: '10.1.2.3' })) ?? '', /refuses messages matching address:10\.1\.2\.3/);
  assert.match(policy.problem(local, 'ALICE', facts({ user: 'mallory', groups: ['Helpdesk'] })) ?? '', /user:mallory/, 'deny wins over an allowing group');
  assert.match(policy.problem(local, 'ALICE', facts({ user: 'dave' })) ?? '', /only from/);
  assert.equal(policy.problem(local, 'BOB', facts({ user: 'dave' })), null, 'other aliases are untouched');
  policy.set('ALICE', null);
  assert.equal(policy.problem(local, 'ALICE', facts({ user: 'dave' })), null);
});

test('policies from the control socket are validated with status 87', () => {
  const invalid = (e: unknown) => e instanceof NetApiError && e.status === 87;
  for (const bad of [null, { legacy: 'some' }, { allow: 'user:bob' }, { allow: ['bob'] }, { deny: ['subnet:10.0.0.0/33'] }, { deny: ['address:nope'] }, { allow: Array(300).fill('user:x') }]) {
    assert.throws(() => parsePolicy(bad), invalid, JSON.stringify(bad)?.slice(0, 60));
  }
  assert.deepEqual(parsePolicy({ allow: ['user:bob', 'user:bob'] }), { allow: ['user:bob'], deny: [] });
});

test('property: any string is either a valid rule or has a problem, and parsing never throws anything but NetApiError', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('user:', 'subnet:1.2.3.4/', 'host:x', 'address:::1')), { maxLength: 5 }), (rules) => {
      for (const rule of rules) assert.ok(ruleProblem(rule) === null || typeof ruleProblem(rule) === 'string');
      try {
        parsePolicy({ allow: rules });
      } catch (error) {
        assert.ok(error instanceof NetApiError);
      }
    }),
    { numRuns: 300 },
  );
});

test('subnetOf turns an interface address and netmask into CIDR', () => {
  assert.equal(subnetOf('10.77.0.2', '255.255.255.0'), '10.77.0.2/24');
  assert.equal(subnetOf('fd00::5', 'ffff:ffff:ffff:ffff::'), 'fd00::5/64');
  assert.ok(new SubnetSet([subnetOf('10.77.0.2', '255.255.255.0')]).has('10.77.0.200'));
});
