import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AliasTable, type AliasStore, type NameRegistrar } from './aliases.js';
import { NetApiError } from './errors.js';

class MemoryAliasStore implements AliasStore {
  readonly names = new Set<string>();
  async saveAlias(name: string): Promise<void> {
    this.names.add(name);
  }
  async deleteAlias(name: string): Promise<void> {
    this.names.delete(name);
  }
}

const status = (code: number) => (e: unknown) => e instanceof NetApiError && e.status === code;

function table(store = new MemoryAliasStore(), registrar?: NameRegistrar) {
  return new AliasTable({
    computerName: 'pc1', userNames: ['alice', 'bad:name'], addedAliases: [...store.names], maxAddedAliases: 2, store,
    ...(registrar ? { registrar } : {}),
  });
}

test('AliasTable registers the computer name and valid user names at start', () => {
  assert.deepEqual(table().list(), [{ name: 'PC1', kind: 'computer' }, { name: 'ALICE', kind: 'user' }]);
});

test('AliasTable add persists, is case-insensitive, and refuses duplicates (2276) and too many (2277)', async () => {
  const store = new MemoryAliasStore();
  const aliases = table(store);
  await aliases.add('bob');
  assert.deepEqual(aliases.find('Bob'), { name: 'BOB', kind: 'added' });
  assert.deepEqual([...store.names], ['BOB']);
  await assert.rejects(aliases.add('BOB'), status(2276));
  await assert.rejects(aliases.add('pc1'), status(2276));
  await aliases.add('carol');
  await assert.rejects(aliases.add('dave'), status(2277), 'only added aliases count toward the limit');
  assert.deepEqual(table(store).list().map((a) => a.name), ['PC1', 'ALICE', 'BOB', 'CAROL'], 'added aliases come back after a restart');
});

test('AliasTable delete refuses the computer name (2278) and names not here (2285)', async () => {
  const store = new MemoryAliasStore();
  const aliases = table(store);
  await aliases.add('bob');
  await assert.rejects(aliases.delete('PC1'), status(2278));
  await assert.rejects(aliases.delete('nobody'), status(2285));
  await assert.rejects(aliases.delete('a*b'), status(87));
  await aliases.delete('bob');
  assert.equal(store.names.size, 0);
  await aliases.delete('alice');
  assert.equal(aliases.find('ALICE'), undefined, 'a user name can be deleted');
});

test('a registrar that finds the name on the network makes add fail (2297) and persists nothing; delete releases', async () => {
  const store = new MemoryAliasStore();
  const released: string[] = [];
  const registrar: NameRegistrar = {
    register: async (alias) => {
      if (alias.name === 'TAKEN') throw new NetApiError('NERR_DuplicateName');
    },
    release: async (alias) => void released.push(alias.name),
  };
  const aliases = table(store, registrar);
  await assert.rejects(aliases.add('taken'), status(2297));
  assert.equal(store.names.size, 0);
  assert.equal(aliases.find('TAKEN'), undefined);
  await aliases.add('free');
  await aliases.delete('free');
  assert.deepEqual(released, ['FREE'], 'a deleted alias is given back to the network');
});
