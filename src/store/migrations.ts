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
  // 2: accounts and groups for remote calls, API tokens, the audit log, per-alias policies,
  // and the verified sender of messages that came over the secure channel
  `CREATE TABLE users (
     name          TEXT    PRIMARY KEY COLLATE NOCASE,
     password_hash TEXT,                       -- "scrypt$N$r$p$salt$hash"; NULL: token-only account
     created_at    INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE memberships (
     user_name  TEXT NOT NULL COLLATE NOCASE,
     group_name TEXT NOT NULL COLLATE NOCASE,
     PRIMARY KEY (user_name, group_name)
   ) WITHOUT ROWID;
   CREATE TABLE tokens (
     hash       TEXT    PRIMARY KEY,           -- SHA-256 of the token: tokens are random, 256 bits
     user_name  TEXT    NOT NULL COLLATE NOCASE,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE audit (
     id        INTEGER PRIMARY KEY,
     at        INTEGER NOT NULL,
     event     TEXT    NOT NULL,               -- "remote-call", "refused-send", …
     principal TEXT    NOT NULL,
     source    TEXT,
     detail    TEXT    NOT NULL,
     status    INTEGER NOT NULL
   );
   CREATE TABLE alias_policies (
     name   TEXT PRIMARY KEY,
     policy TEXT NOT NULL                      -- JSON: { legacy, allow, deny }
   ) WITHOUT ROWID;
   ALTER TABLE messages ADD COLUMN sender_user TEXT;             -- the sending host's account
   ALTER TABLE messages ADD COLUMN sender_host TEXT;             -- "NAME sha256:…", verified`,
  // 3: what became of each message on each surface (web inbox, desktop, sender receipts later):
  // an append-only log, so "latest state" is the newest row and the history stays for receipts
  `CREATE TABLE message_events (
     id         INTEGER PRIMARY KEY,
     message_id INTEGER NOT NULL,                -- messages.id
     state      TEXT    NOT NULL CHECK (state IN ('delivered', 'shown', 'read', 'acknowledged', 'expired')),
     surface    TEXT    NOT NULL,                -- "web", "desktop", "tty", …
     "by"       TEXT,                            -- who: an account, a login name, a host; NULL when unknown
     at         INTEGER NOT NULL                 -- ms since the Unix epoch
   );
   CREATE INDEX message_events_by_message ON message_events (message_id, surface, id);`,
  // 4: how insistently a message is shown, and until when it waits for a recipient who is not there
  `ALTER TABLE messages ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
   ALTER TABLE messages ADD COLUMN expires_at INTEGER;               -- ms since the Unix epoch; NULL: never
   CREATE INDEX messages_by_expiry ON messages (expires_at);`,
  // 5: which credentials are host keys, so that an administrator can list and revoke them
  // (bindings made before this read as API tokens: only their hash was kept)
  `ALTER TABLE tokens ADD COLUMN host_key TEXT;                     -- "SHA256:…" for a bound host key; NULL: an API token`,
  // 6: the organisation hub. What this host sent through it, until the hub holds it and after
  // (the receipts that come back); and, for a message that came through it, the id it had at its
  // sender, so that a second delivery of it is the same message.
  `CREATE TABLE hub_outbox (
     id           INTEGER PRIMARY KEY,
     envelope_id  TEXT    NOT NULL UNIQUE,
     subject      TEXT    NOT NULL,
     envelope     TEXT    NOT NULL,             -- the sealed envelope (JSON): what the hub sees, never the text; '' once the hub holds it
     created_at   INTEGER NOT NULL,             -- ms since the Unix epoch
     expires_at   INTEGER,                      -- past it, an unsent message is marked expired, not sent
     sender_user  TEXT,                         -- who sent it (login or account name): only they, and administrators, see its receipt
     published_at INTEGER,                      -- when the hub acknowledged it; NULL: still waiting
     state        TEXT    NOT NULL DEFAULT 'queued',
     state_at     TEXT,
     surfaces     TEXT    NOT NULL DEFAULT '{}' -- JSON: the recipient's surfaces, as its receipts said
   );
   CREATE INDEX hub_outbox_waiting ON hub_outbox (published_at, id);
   ALTER TABLE messages ADD COLUMN origin_id TEXT;                 -- through the hub: its id at the sending host
   CREATE UNIQUE INDEX messages_by_origin ON messages (origin_id) WHERE origin_id IS NOT NULL;`,
  // 7: a message's title (ntfy's Title), a heading of its own rather than the text's first line
  `ALTER TABLE messages ADD COLUMN title TEXT;                     -- NULL: none`,
  // 8: a person's own messages (the web inbox of an account that is not an administrator, the
  // receipts' questions) found through the index at any inbox size, not by reading every row
  `CREATE INDEX messages_by_recipient ON messages (to_name COLLATE NOCASE, id);`,
  // 9: a message sent through the hub that its recipient host refused, and why
  `ALTER TABLE hub_outbox ADD COLUMN refusal TEXT;                -- JSON { status, message } when its state is 'refused'`,
  // 10: what became of a message that came through the hub, owed to its sender's host until the
  // hub holds the receipt: kept across a hub that is away and a daemon that stops
  `ALTER TABLE message_events ADD COLUMN hub_owed INTEGER;         -- 1: its receipt is not at the hub yet; NULL: it is, or the message came another way
   CREATE INDEX message_events_hub_owed ON message_events (id) WHERE hub_owed = 1;`,
];
