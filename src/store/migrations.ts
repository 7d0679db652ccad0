/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run.
 * Append only: a migration that has shipped is never edited.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the inbox and the aliases added at runtime
  `CREATE TABLE messages (
     id             INTEGER PRIMARY KEY,
     from_name      TEXT    NOT NULL,
     to_name        TEXT    NOT NULL,
     text           TEXT    NOT NULL,
     received_at    INTEGER NOT NULL,          -- ms since the Unix epoch
     via            TEXT    NOT NULL,
     sender_uid     INTEGER,                   -- local sender, from the control socket
     sender_address TEXT                       -- network sender, "ip:port"
   );
   CREATE TABLE aliases (
     name         TEXT    PRIMARY KEY,
     added_at     INTEGER NOT NULL,
     added_by_uid INTEGER
   ) WITHOUT ROWID;`,
];
