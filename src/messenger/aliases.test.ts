/** AliasTable (aliases.ts) over an in-memory AliasStore and a recording name registrar, one rule per test. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AliasTable, type Alias, type AliasStore, type NameRegistrar } from './aliases.js';
import { NetApiError } from './errors.js';

/** The store as a Map of name → uid that added it, in insertion order. */
class MapAliasStore implements AliasStore {
  readonly saved = new Map<string, number | null>();
  async saveAlias(name: string, addedByUid: number | null): Promise<void> {
    this.saved.set(name, addedByUid);
  }
  async deleteAlias(name: string): Promise<void> {
    this.saved.delete(name);
  }
}

/** A registrar that records what it was asked and refuses the names it is told to. */
class RecordingRegistrar implements NameRegistrar {
  readonly registered: string[] = [];
  readonly released: string[] = [];
  constructor(readonly refuse: ReadonlyMap<string, NetApiError> = new Map()) {}
  async register(alias: Alias): Promise<void> {
    const error = this.refuse.get(alias.name);
    if (error) throw error;
    this.registered.push(alias.name);
  }
  async release(alias: Alias): Promise<void> {
    this.released.push(alias.name);
  }
}

const status = (code: number, words?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof NetApiError, `expected a NetApiError, got ${String(e)}`);
  assert.equal(e.status, code, e.message);
  if (words) assert.match(e.message, words);
  return true;
};

function makeTable(options: { store?: MapAliasStore; registrar?: NameRegistrar; max?: number; users?: string[] } = {}) {
  const store = options.store ?? new MapAliasStore();
  const table = new AliasTable({
    computerName: 'pc1',
    userNames: options.users ?? ['alice', 'bob'],
    addedAliases: [...store.saved.keys()],
    maxAddedAliases: options.max ?? 3,
    store,
    ...(options.registrar ? { registrar: options.registrar } : {}),
  });
  return { table, store };
}

describe('AliasTable at start and after a restart', () => {
  test('AliasTable registers the computer name and the user names, upper-cased', () => {
    const { table } = makeTable();
    assert.equal(table.computerName, 'PC1');
    assert.deepEqual(table.list(), [
      { name: 'PC1', kind: 'computer' },
      { name: 'ALICE', kind: 'user' },
      { name: 'BOB', kind: 'user' },
    ]);
  });

  test('AliasTable skips invalid and duplicate user names instead of failing to start', () => {
    const { table } = makeTable({ users: ['alice', 'bad:name', 'ALICE', 'pc1', '', 'x'.repeat(16), 'carol'] });
    assert.deepEqual(table.list().map((a) => `${a.kind}:${a.name}`), ['computer:PC1', 'user:ALICE', 'user:CAROL']);
  });

  test('AliasTable refuses an invalid computer name with 87 naming it', () => {
    const store = new MapAliasStore();
    assert.throws(
      () => new AliasTable({ computerName: 'bad*pc', userNames: [], addedAliases: [], maxAddedAliases: 1, store }),
      status(87, /The computer name "bad\*pc" holds a character/),
    );
  });

  test('AliasTable lists the computer name, then user names, then added aliases in the order added', async () => {
    const { table } = makeTable({ max: 5 });
    await table.add('zed');
    await table.add('adam');
    assert.deepEqual(table.list().map((a) => a.name), ['PC1', 'ALICE', 'BOB', 'ZED', 'ADAM']);
  });

  test('AliasTable aliases added before a restart come back from the store, after the user names', async () => {
    const store = new MapAliasStore();
    const first = makeTable({ store });
    await first.table.add('carol');
    await first.table.add('dave');
    await first.table.delete('dave');
    const second = makeTable({ store });
    assert.deepEqual(second.table.list(), [
      { name: 'PC1', kind: 'computer' },
      { name: 'ALICE', kind: 'user' },
      { name: 'BOB', kind: 'user' },
      { name: 'CAROL', kind: 'added' },
    ]);
  });

  test('AliasTable ignores a stored alias that is also a user or computer name, or no longer valid', () => {
    const store = new MapAliasStore();
    for (const name of ['ALICE', 'PC1', 'BAD*', 'EVE']) store.saved.set(name, null);
    const { table } = makeTable({ store });
    assert.deepEqual(table.list().map((a) => `${a.kind}:${a.name}`), ['computer:PC1', 'user:ALICE', 'user:BOB', 'added:EVE']);
  });
});

describe('AliasTable add', () => {
  test('AliasTable add persists the alias with the uid that added it and finds it in any case', async () => {
    const { table, store } = makeTable();
    const before = table.version;
    assert.deepEqual(await table.add('carol', 1000), { name: 'CAROL', kind: 'added' });
    assert.deepEqual([...store.saved], [['CAROL', 1000]]);
    assert.ok(table.version > before, 'version changes on add');
    for (const spelling of ['carol', 'CAROL', 'CaRoL']) {
      assert.deepEqual(table.find(spelling), { name: 'CAROL', kind: 'added' }, spelling);
      assert.deepEqual(table.get(spelling), { name: 'CAROL', kind: 'added' }, spelling);
    }
    await table.add('dave');
    assert.equal(store.saved.get('DAVE'), null, 'without a uid the store gets null');
  });

  test('AliasTable add of a name already here fails with 2276, whatever its kind or case', async () => {
    const { table, store } = makeTable();
    await table.add('carol');
    for (const name of ['carol', 'CAROL', 'pc1', 'Alice']) {
      await assert.rejects(table.add(name), status(2276, new RegExp(`"${name.toUpperCase()}" is already an alias here`)), name);
    }
    assert.deepEqual([...store.saved.keys()], ['CAROL']);
  });

  test('AliasTable add past maxAddedAliases fails with 2277; only added aliases count', async () => {
    const { table, store } = makeTable({ max: 2, users: ['u1', 'u2', 'u3', 'u4'] });
    await table.add('a1');
    await table.add('a2');
    await assert.rejects(table.add('a3'), status(2277, /allows 2 added aliases/));
    assert.deepEqual([...store.saved.keys()], ['A1', 'A2']);
    await table.delete('a1');
    await table.add('a3');
    assert.deepEqual([...store.saved.keys()], ['A2', 'A3'], 'a deleted alias frees its place');
    const none = makeTable({ max: 0 });
    await assert.rejects(none.table.add('x'), status(2277), 'max 0 allows no added alias');
  });

  test('AliasTable counts the aliases loaded from the store toward maxAddedAliases', async () => {
    const store = new MapAliasStore();
    await store.saveAlias('OLD1', null);
    await store.saveAlias('OLD2', null);
    const { table } = makeTable({ store, max: 2 });
    await assert.rejects(table.add('new'), status(2277));
  });

  test(
    'AliasTable holds maxAddedAliases also when adds run at the same time',
    async () => {
      const { table, store } = makeTable({ max: 1 });
      const outcomes = await Promise.allSettled([table.add('a'), table.add('b'), table.add('c')]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) if (o.status === 'rejected') status(2277)(o.reason);
      assert.equal(store.saved.size, 1);
      assert.equal(table.list().filter((a) => a.kind === 'added').length, 1);
    },
  );

  test(
    'AliasTable gives one of two concurrent adds of the same name 2276 and stores it once',
    async () => {
      const { table, store } = makeTable();
      const outcomes = await Promise.allSettled([table.add('same'), table.add('SAME')]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
      const rejected = outcomes.find((o) => o.status === 'rejected');
      status(2276)(rejected?.reason);
      assert.deepEqual([...store.saved.keys()], ['SAME']);
    },
  );
});

describe('AliasTable delete', () => {
  test('AliasTable delete of the computer name fails with 2278, in any case', async () => {
    const { table } = makeTable();
    await assert.rejects(table.delete('PC1'), status(2278, /"PC1" is this computer's name/));
    await assert.rejects(table.delete('pc1'), status(2278));
    assert.deepEqual(table.find('pc1'), { name: 'PC1', kind: 'computer' });
  });

  test('AliasTable delete removes an added alias from the table and the store, and a user name from the table', async () => {
    const { table, store } = makeTable();
    await table.add('carol');
    const before = table.version;
    assert.deepEqual(await table.delete('Carol'), { name: 'CAROL', kind: 'added' });
    assert.equal(store.saved.size, 0);
    assert.ok(table.version > before, 'version changes on delete');
    assert.deepEqual(await table.delete('alice'), { name: 'ALICE', kind: 'user' });
    assert.equal(table.find('alice'), undefined);
  });
});

describe('names that are not here or not valid', () => {
  test('AliasTable delete and get of a name that is not here fail with 2285', async () => {
    const { table } = makeTable();
    await assert.rejects(table.delete('nobody'), status(2285, /"NOBODY" is not an alias of this computer/));
    assert.throws(() => table.get('nobody'), status(2285, /"NOBODY" is not an alias of this computer/));
    assert.equal(table.find('nobody'), undefined);
  });

  test('AliasTable add, delete and get refuse invalid names with 87; find simply finds nothing', async () => {
    const { table, store } = makeTable();
    for (const bad of ['a*b', '', ' lead', '.dot', 'x'.repeat(16), '中', 42, null]) {
      await assert.rejects(table.add(bad), status(87), String(bad));
      await assert.rejects(table.delete(bad), status(87), String(bad));
      assert.throws(() => table.get(bad), status(87), String(bad));
    }
    assert.equal(table.find('a*b'), undefined);
    assert.equal(table.find(42 as unknown as string), undefined, 'a non-string finds nothing and does not throw');
    assert.equal(store.saved.size, 0);
  });
});

describe('AliasTable with a network name registrar', () => {
  test('AliasTable add fails with 2297 when the registrar finds the name on the network, and persists nothing', async () => {
    const registrar = new RecordingRegistrar(new Map([['TAKEN', new NetApiError('NERR_DuplicateName')]]));
    const { table, store } = makeTable({ registrar });
    const before = table.version;
    await assert.rejects(table.add('taken'), status(2297, /The name already exists on the network/));
    assert.equal(store.saved.size, 0);
    assert.equal(table.find('TAKEN'), undefined);
    assert.equal(table.version, before);
    assert.deepEqual(await table.add('free'), { name: 'FREE', kind: 'added' });
    assert.deepEqual(registrar.registered, ['FREE'], 'register is called with the canonical name');
  });

  test('AliasTable add passes the registrar network error (2136) through and persists nothing', async () => {
    const registrar = new RecordingRegistrar(new Map([['DOWN', new NetApiError('NERR_NetworkError')]]));
    const { table, store } = makeTable({ registrar });
    await assert.rejects(table.add('down'), status(2136));
    assert.equal(store.saved.size, 0);
  });

  test('AliasTable delete releases the name on the network; refused deletes release nothing', async () => {
    const registrar = new RecordingRegistrar();
    const { table } = makeTable({ registrar });
    await table.add('carol');
    await table.delete('carol');
    await table.delete('alice');
    await assert.rejects(table.delete('pc1'), status(2278));
    await assert.rejects(table.delete('nobody'), status(2285));
    assert.deepEqual(registrar.released, ['CAROL', 'ALICE']);
  });

  test('AliasTable gives one of two concurrent deletes of the same alias 2285, and releases the name once', async () => {
    const registrar = new RecordingRegistrar();
    const { table } = makeTable({ registrar });
    await table.add('carol');
    const outcomes = await Promise.allSettled([table.delete('carol'), table.delete('CAROL')]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    status(2285)(outcomes.find((o) => o.status === 'rejected')?.reason);
    assert.deepEqual(registrar.released, ['CAROL']);
    assert.equal(table.find('carol'), undefined);
  });

  test(
    'AliasTable add gives the name back to the network when the store fails after registering it',
    async () => {
      const registrar = new RecordingRegistrar();
      const failing: AliasStore = {
        saveAlias: async () => {
          throw new Error('disk full');
        },
        deleteAlias: async () => {},
      };
      const table = new AliasTable({ computerName: 'pc1', userNames: [], addedAliases: [], maxAddedAliases: 3, store: failing, registrar });
      await assert.rejects(table.add('carol'), /disk full/);
      assert.equal(table.find('carol'), undefined);
      assert.deepEqual(registrar.released, registrar.registered, `registered ${registrar.registered.join()} but released ${registrar.released.join()}`);
    },
  );
});
