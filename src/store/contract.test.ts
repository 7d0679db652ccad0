/**
 * The store contract (test/helpers/store-contract.ts) run against the SQLite store and the tests'
 * memory store. In memory: what only a file shows (reopen, lock, migrations) is sqlite.test.ts's.
 */
import { MemoryStore } from '../../test/helpers/memory-store.js';
import { storeContract } from '../../test/helpers/store-contract.js';
import { SqliteStore } from './sqlite.js';

storeContract('an in-memory SqliteStore', () => SqliteStore.open(':memory:'));

storeContract('the MemoryStore of the tests', async () => new MemoryStore());
