/** Accounts, their groups and their credentials (API tokens and host keys). Names compare without case (NOCASE, ASCII). */
import type Database from 'better-sqlite3';
import type { StoredCredential, UserRecord, UserSummary } from '../security/accounts.js';

export type AccountQueries = ReturnType<typeof accountQueries>;

export function accountQueries(db: Database.Database) {
  const user = db.prepare<[string], { name: string; password_hash: string | null }>(`SELECT name, password_hash FROM users WHERE name = ?`);
  const upsertUser = db.prepare(`INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash`);
  const users = db.prepare<[], { name: string; has_password: number; tokens: number }>(
    `SELECT name, password_hash IS NOT NULL AS has_password, (SELECT count(*) FROM tokens t WHERE t.user_name = u.name) AS tokens FROM users u ORDER BY name`,
  );
  const groups = db.prepare<[string], string>(`SELECT group_name FROM memberships WHERE user_name = ? ORDER BY group_name`).pluck();
  const join = db.prepare(`INSERT OR IGNORE INTO memberships (user_name, group_name) VALUES (?, ?)`);
  const leave = db.prepare(`DELETE FROM memberships WHERE user_name = ? AND group_name = ?`);
  const leaveAll = db.prepare(`DELETE FROM memberships WHERE user_name = ?`);
  const insertToken = db.prepare(`INSERT INTO tokens (hash, user_name, created_at, host_key) VALUES (?, ?, ?, ?)`);
  const tokensOf = db.prepare<[string], { hash: string; host_key: string | null; created_at: number }>(
    `SELECT hash, host_key, created_at FROM tokens WHERE user_name = ? ORDER BY created_at, hash`,
  );
  const tokenUser = db.prepare<[string], string>(`SELECT user_name FROM tokens WHERE hash = ?`).pluck();
  const deleteToken = db.prepare(`DELETE FROM tokens WHERE user_name = ? AND hash = ?`);
  const deleteAllTokens = db.prepare(`DELETE FROM tokens WHERE user_name = ?`);
  const deleteUser = db.prepare(`DELETE FROM users WHERE name = ?`);
  const deleteAccount = db.transaction((name: string) => {
    leaveAll.run(name);
    deleteAllTokens.run(name);
    return deleteUser.run(name).changes > 0;
  });
  const deleteSome = db.transaction((name: string, hashes: readonly string[]) => hashes.reduce((sum, hash) => sum + deleteToken.run(name, hash).changes, 0));

  return {
    getUser(name: string): UserRecord | null {
      const row = user.get(name);
      return row === undefined ? null : { name: row.name, passwordHash: row.password_hash, groups: groups.all(row.name) };
    },

    /** Creates the account, or sets its password when it exists. */
    putUser(name: string, passwordHash: string | null): void {
      upsertUser.run(name, passwordHash, Date.now());
    },

    /** Deletes the account with its memberships and tokens; false when there was none. */
    deleteUser(name: string): boolean {
      return deleteAccount(name);
    },

    listUsers(): UserSummary[] {
      return users.all().map((row) => ({ name: row.name, groups: groups.all(row.name), tokens: row.tokens, hasPassword: row.has_password === 1 }));
    },

    setMembership(user: string, group: string, member: boolean): void {
      (member ? join : leave).run(user, group);
    },

    addToken(hash: string, user: string, hostKey: string | null = null): void {
      insertToken.run(hash, user, Date.now(), hostKey);
    },

    /** The account's API tokens and host keys, oldest first. */
    listTokens(user: string): StoredCredential[] {
      return tokensOf.all(user).map((row) => ({ hash: row.hash, hostKey: row.host_key, createdAt: row.created_at }));
    },

    /** Deletes the account's credentials with these hashes (all of them when null); how many went. */
    deleteTokens(user: string, hashes: readonly string[] | null): number {
      return hashes === null ? deleteAllTokens.run(user).changes : deleteSome(user, hashes);
    },

    userForToken(hash: string): string | null {
      return tokenUser.get(hash) ?? null;
    },
  };
}
