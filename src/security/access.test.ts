import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetApiError } from '../messenger/errors.js';
import { accountNameProblem } from '../messenger/account-names.js';
import { AccessPolicy, type Principal } from './access.js';

const user = (...groups: string[]): Principal => ({ kind: 'user', name: 'bob', uid: null, groups, source: '10.0.0.5:5000' });
const local = (...groups: string[]): Principal => ({ kind: 'local', name: 'alice', uid: 1000, groups, source: null });
const denied = (e: unknown) => e instanceof NetApiError && e.status === 5;

test('on a workstation or member server, remote calls need Administrators or Server Operators', () => {
  for (const role of ['standalone server', 'member server'] as const) {
    const policy = new AccessPolicy({ role, remoteCallGroups: [] });
    assert.throws(() => policy.check(user(), 'send'), denied);
    assert.throws(() => policy.check(user('Account Operators'), 'send'), denied);
    assert.throws(() => policy.check(user('Domain Admins'), 'names.add'), denied);
    assert.doesNotThrow(() => policy.check(user('Server Operators'), 'send'));
    assert.doesNotThrow(() => policy.check(user('administrators'), 'names.add'), 'group names compare case-insensitively');
  }
});

test('on a domain controller the default ACL is Domain Admins and Account Operators', () => {
  const policy = new AccessPolicy({ role: 'domain controller', remoteCallGroups: [] });
  assert.throws(() => policy.check(user('Administrators'), 'send'), denied);
  assert.throws(() => policy.check(user('Server Operators'), 'send'), denied);
  assert.doesNotThrow(() => policy.check(user('Account Operators'), 'send'));
  assert.doesNotThrow(() => policy.check(user('Domain Admins'), 'names.delete'));
});

test('NetMessageNameDel on a remote server needs Administrators, not just the remote-call groups', () => {
  const policy = new AccessPolicy({ role: 'standalone server', remoteCallGroups: [] });
  assert.throws(() => policy.check(user('Server Operators'), 'names.delete'), (e: unknown) => denied(e) && /Administrators/.test((e as Error).message));
  assert.doesNotThrow(() => policy.check(user('Administrators'), 'names.delete'));
  const dc = new AccessPolicy({ role: 'domain controller', remoteCallGroups: [] });
  assert.throws(() => dc.check(user('Account Operators'), 'names.delete'), denied);
});

test('locally no group is needed to send or manage names; administration needs Administrators', () => {
  const policy = new AccessPolicy({ role: 'standalone server', remoteCallGroups: [] });
  for (const action of ['send', 'names.read', 'names.add', 'names.delete', 'inbox.read'] as const) assert.doesNotThrow(() => policy.check(local(), action));
  assert.throws(() => policy.check(local(), 'administer'), denied);
  assert.doesNotThrow(() => policy.check(local('Administrators'), 'administer'));
  assert.throws(() => policy.check(user('Server Operators'), 'administer'), denied);
});

test('administration from afar needs the remote-call groups as well as admin rights', () => {
  const narrowed = new AccessPolicy({ role: 'standalone server', remoteCallGroups: ['Helpdesk'] });
  assert.throws(() => narrowed.check(user('Administrators'), 'administer'), denied, 'an administrator outside the narrowed list cannot add itself to it');
  assert.doesNotThrow(() => narrowed.check(user('Administrators', 'Helpdesk'), 'administer'));
  assert.throws(() => narrowed.check(user('Helpdesk'), 'administer'), denied);
  assert.doesNotThrow(() => narrowed.check(local('Administrators'), 'administer'), 'locally the list does not apply');
  const dc = new AccessPolicy({ role: 'domain controller', remoteCallGroups: [] });
  assert.throws(() => dc.check(user('Administrators'), 'administer'), denied, 'on a domain controller, Domain Admins');
  assert.doesNotThrow(() => dc.check(user('Domain Admins'), 'administer'));
  assert.throws(() => dc.check(user('Account Operators'), 'administer'), denied);
});

test('the configured ACL replaces the role defaults; hosts and remote inbox reads are refused', () => {
  const policy = new AccessPolicy({ role: 'standalone server', remoteCallGroups: ['Helpdesk'] });
  assert.doesNotThrow(() => policy.check(user('Helpdesk'), 'send'));
  assert.throws(() => policy.check(user('Server Operators'), 'send'), denied);
  assert.throws(() => policy.check(user('Helpdesk'), 'inbox.read'), denied);
  assert.throws(() => policy.check({ kind: 'host', name: 'HOSTB', uid: null, groups: ['Administrators'], source: null }, 'send'), denied);
});

test('account and group names: printable words, no separators', () => {
  for (const good of ['bob', 'Server Operators', 'j.doe-2', 'Ünal']) assert.equal(accountNameProblem(good), null, good);
  for (const bad of ['', ' bob', 'bob ', 'a:b', 'x'.repeat(65), 'tab\there', 42]) assert.notEqual(accountNameProblem(bad), null, String(bad));
});
