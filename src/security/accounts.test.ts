/**
 * Accounts' tokens and host keys (accounts.ts) on a real in-memory store: listing them by id and
 * revoking one, or all, as `netsend user tokens` / `netsend user revoke` do.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { isNetApiError } from '../messenger/errors.js';
import { SqliteStore } from '../store/sqlite.js';
import { Accounts, type AccountChange } from './accounts.js';
import { tokenHash } from './passwords.js';

const FINGERPRINT = `SHA256:${'A'.repeat(43)}`;

/** The status name a call failed with. */
async function statusOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (isNetApiError(error)) return error.statusName ?? String(error.status);
    throw error;
  }
  return 'NERR_Success';
}

describe('tokens and host keys of an account', () => {
  let store: SqliteStore;
  let accounts: Accounts;
  let changes: Array<[string, AccountChange]>;

  before(async () => {
    store = await SqliteStore.open(':memory:');
    accounts = new Accounts(store.accounts);
    accounts.watch((user, change) => changes.push([user, change]));
  });
  after(() => store.close());
  beforeEach(async () => {
    for (const name of ['ops', 'admin']) await store.accounts.deleteUser(name);
    await accounts.add('ops', null);
    await accounts.add('admin', null);
    changes = [];
  });

  test('are listed oldest first by a 12-digit id and their kind, never by the token itself', async () => {
    const token = await accounts.issueToken('ops');
    // creation times are in ms, and two made in the same ms have no order: a tick apart
    await new Promise((resolve) => setTimeout(resolve, 5));
    await accounts.bindHostKey('ops', FINGERPRINT);
    const listed = await accounts.credentials('ops');
    assert.deepEqual(
      listed.map((c) => [c.id, c.kind, c.hostKey]),
      [
        [tokenHash(token).slice(0, 12), 'token', null],
        [listed[1]!.id, 'host key', FINGERPRINT],
      ],
    );
    assert.match(listed[1]!.id, /^[0-9a-f]{12}$/);
    assert.ok(!JSON.stringify(listed).includes(token.slice(4)));
    assert.ok(Number.isFinite(Date.parse(listed[0]!.createdAt)));
  });

  test('one is revoked by the token itself, by its id or a prefix of 6 digits or more, or by a host key fingerprint', async () => {
    const [first, second, third] = [await accounts.issueToken('ops'), await accounts.issueToken('ops'), await accounts.issueToken('ops')];
    await accounts.bindHostKey('ops', FINGERPRINT);
    assert.equal(await accounts.revoke('ops', first), 1);
    assert.equal(await accounts.revoke('ops', tokenHash(second).slice(0, 12).toUpperCase()), 1);
    assert.equal(await accounts.revoke('ops', tokenHash(third).slice(0, 6)), 1);
    assert.equal(await accounts.revoke('ops', FINGERPRINT), 1);
    assert.deepEqual(await accounts.credentials('ops'), []);
    for (const token of [first, second, third]) assert.equal(await accounts.authenticate({ token }, null), null);
    assert.equal(await accounts.forHostKey(FINGERPRINT, null), null);
    assert.deepEqual(changes.filter(([, change]) => change === 'revoked'), Array(4).fill(['ops', 'revoked']));
  });

  test('null revokes every token and host key of that account only; the password and the other accounts stay', async () => {
    await accounts.setPassword('ops', 'ops-password');
    await accounts.issueToken('ops');
    await accounts.bindHostKey('ops', FINGERPRINT);
    const kept = await accounts.issueToken('admin');
    assert.equal(await accounts.revoke('ops', null), 2);
    assert.equal(await accounts.revoke('ops', null), 0, 'none left: nothing to revoke, and no change');
    assert.deepEqual(changes.filter(([, change]) => change === 'revoked'), [['ops', 'revoked']]);
    assert.equal((await accounts.authenticate({ user: 'ops', password: 'ops-password' }, null))?.name, 'ops');
    assert.equal((await accounts.authenticate({ token: kept }, null))?.name, 'admin');
  });

  test("another account's token, an unknown one, an ambiguous prefix or a malformed name is refused, and nothing is revoked", async () => {
    const theirs = await accounts.issueToken('admin');
    const mine = await accounts.issueToken('ops');
    assert.equal(await statusOf(accounts.revoke('ops', theirs)), 'ERROR_NOT_FOUND');
    assert.equal(await statusOf(accounts.revoke('ops', tokenHash(theirs).slice(0, 12))), 'ERROR_NOT_FOUND');
    assert.equal(await statusOf(accounts.revoke('ops', 'nst_not-issued')), 'ERROR_NOT_FOUND');
    assert.equal(await statusOf(accounts.revoke('nobody', mine)), 'NERR_UserNotFound');
    for (const bad of ['abcde', 'not hex', '', 42, undefined, 'x'.repeat(300)]) {
      assert.equal(await statusOf(accounts.revoke('ops', bad)), 'ERROR_INVALID_PARAMETER', String(bad));
    }
    // two stored hashes that share their first 8 digits
    await store.accounts.addToken(`abcdef01${'0'.repeat(56)}`, 'ops');
    await store.accounts.addToken(`abcdef01${'1'.repeat(56)}`, 'ops');
    assert.equal(await statusOf(accounts.revoke('ops', 'abcdef01')), 'ERROR_INVALID_PARAMETER');
    assert.equal(await accounts.revoke('ops', 'abcdef010'), 1, 'one more digit tells them apart');
    assert.equal((await accounts.authenticate({ token: mine }, null))?.name, 'ops');
    assert.equal((await accounts.authenticate({ token: theirs }, null))?.name, 'admin');
  });

  test('a host key is bound to one account: binding it again there changes nothing, to another is refused', async () => {
    await accounts.bindHostKey('ops', FINGERPRINT);
    await accounts.bindHostKey('OPS', FINGERPRINT);
    assert.equal((await accounts.credentials('ops')).length, 1);
    assert.equal(await statusOf(accounts.bindHostKey('admin', FINGERPRINT)), 'ERROR_INVALID_PARAMETER');
    assert.equal((await accounts.forHostKey(FINGERPRINT, null))?.name, 'ops');
  });
});
