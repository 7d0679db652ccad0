import { SqliteStore } from '../../src/store/sqlite.js';

/** Runs `run` on a fresh in-memory SQLite store (the real group commit and migrations), closed after. */
export async function withStore(run: (store: SqliteStore) => Promise<void>): Promise<void> {
  const store = await SqliteStore.open(':memory:');
  try {
    await run(store);
  } finally {
    await store.close();
  }
}
