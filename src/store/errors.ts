/** Errors of the store that are its own (SQLite's reach the caller as better-sqlite3 throws them). */

/** The database is held by another process: another daemon runs on this data dir. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  readonly code = 'NETSEND_STORE_LOCKED';
}
