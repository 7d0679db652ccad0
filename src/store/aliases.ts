/** The aliases added at runtime, and the per-alias policies (kept as the JSON text they were given as). */
import type Database from 'better-sqlite3';
import type { StoredAlias } from '../messenger/aliases.js';

export type AliasQueries = ReturnType<typeof aliasQueries>;
export type PolicyQueries = ReturnType<typeof policyQueries>;

export function aliasQueries(db: Database.Database) {
  const insert = db.prepare(`INSERT OR REPLACE INTO aliases (name, added_at, added_by_uid) VALUES (?, ?, ?)`);
  const remove = db.prepare(`DELETE FROM aliases WHERE name = ?`);
  const all = db.prepare<[], { name: string; added_by_uid: number | null }>(`SELECT name, added_by_uid FROM aliases ORDER BY added_at, name`);
  return {
    loadAliases(): StoredAlias[] {
      return all.all().map((row) => ({ name: row.name, addedByUid: row.added_by_uid }));
    },

    saveAlias(name: string, addedByUid: number | null): void {
      insert.run(name, Date.now(), addedByUid);
    },

    deleteAlias(name: string): void {
      remove.run(name);
    },
  };
}

export function policyQueries(db: Database.Database) {
  const all = db.prepare<[], { name: string; policy: string }>(`SELECT name, policy FROM alias_policies ORDER BY name`);
  const put = db.prepare(`INSERT OR REPLACE INTO alias_policies (name, policy) VALUES (?, ?)`);
  const remove = db.prepare(`DELETE FROM alias_policies WHERE name = ?`);
  return {
    /** Every alias's policy as the JSON text it was stored as. */
    loadAliasPolicies(): Array<{ name: string; policy: string }> {
      return all.all();
    },

    /** Stores an alias's policy; null removes it. */
    putAliasPolicy(name: string, policy: string | null): void {
      if (policy === null) remove.run(name);
      else put.run(name, policy);
    },
  };
}
