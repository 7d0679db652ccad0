import { NetApiError } from './errors.js';
import { normalizeAlias, oemUpperCase } from './names.js';

/**
 * Where an alias came from. Computer and user names are registered at every start (as the
 * Messenger service did); only added aliases are persisted.
 */
export type AliasKind = 'computer' | 'user' | 'added';

export interface Alias {
  readonly name: string;
  readonly kind: AliasKind;
}

export interface StoredAlias {
  readonly name: string;
  readonly addedByUid: number | null;
}

/** Persistence of the aliases added at runtime. */
export interface AliasStore {
  saveAlias(name: string, addedByUid: number | null): Promise<void>;
  deleteAlias(name: string): Promise<void>;
}

/**
 * Claims a name on the network before it becomes an alias and gives it back after. The name
 * service refuses a name another host holds with NERR_DuplicateName.
 */
export interface NameRegistrar {
  register(alias: Alias): Promise<void>;
  release(alias: Alias): Promise<void>;
}

export const noNetworkRegistrar: NameRegistrar = {
  register: async () => {},
  release: async () => {},
};

export interface AliasTableOptions {
  computerName: string;
  userNames: readonly string[];
  /** Aliases added in earlier runs, as the store kept them (with the uid that added each). */
  addedAliases: ReadonlyArray<string | StoredAlias>;
  maxAddedAliases: number;
  store: AliasStore;
  registrar?: NameRegistrar;
  charset?: string;
}

/** The host's message alias table: the names this Messenger service receives for. */
export class AliasTable {
  readonly #byName = new Map<string, Alias>();
  readonly #store: AliasStore;
  readonly #registrar: NameRegistrar;
  readonly #maxAdded: number;
  readonly #charset: string;
  readonly computerName: string;
  #version = 0;
  /** Names being added right now (registering, storing): they count as taken. */
  readonly #adding = new Set<string>();
  /** Names being deleted (between the check and the store), so a second delete finds none. */
  readonly #deleting = new Set<string>();
  /** Who added each added alias (a local uid; null for remote callers and unknown). */
  readonly #owners = new Map<string, number | null>();

  constructor(options: AliasTableOptions) {
    this.#store = options.store;
    this.#registrar = options.registrar ?? noNetworkRegistrar;
    this.#maxAdded = options.maxAddedAliases;
    this.#charset = options.charset ?? 'CP850';
    this.computerName = normalizeAlias(options.computerName, 'computer name', this.#charset);
    this.#byName.set(this.computerName, { name: this.computerName, kind: 'computer' });
    for (const user of options.userNames) {
      const name = tryNormalize(user, this.#charset);
      if (name !== null && !this.#byName.has(name)) this.#byName.set(name, { name, kind: 'user' });
    }
    for (const stored of options.addedAliases) {
      const { name: raw, addedByUid } = typeof stored === 'string' ? { name: stored, addedByUid: null } : stored;
      const name = tryNormalize(raw, this.#charset);
      if (name !== null && !this.#byName.has(name)) {
        this.#byName.set(name, { name, kind: 'added' });
        this.#owners.set(name, addedByUid);
      }
    }
  }

  /** Changes whenever an alias is added or deleted, so derived tables know when to rebuild. */
  get version(): number {
    return this.#version;
  }

  /** The uid that added an added alias (null: a remote caller, or not known); undefined for other aliases. */
  ownerOf(name: string): number | null | undefined {
    return this.#owners.get(name);
  }

  /** Every alias, in registration order: the computer name, user names, then added ones. */
  list(): Alias[] {
    return [...this.#byName.values()];
  }

  /** The alias for `name` (any case), or undefined. Invalid names are simply not found. */
  find(name: string): Alias | undefined {
    if (typeof name !== 'string') return undefined;
    // the names held are canonical (upper-casing keeps them as they are): one given so needs no upper-casing
    return this.#byName.get(name) ?? this.#byName.get(oemUpperCase(name, this.#charset));
  }

  /** The alias for `name`. @throws NetApiError ERROR_INVALID_PARAMETER, NERR_NotLocalName */
  get(name: unknown): Alias {
    const canonical = normalizeAlias(name, 'message name', this.#charset);
    const alias = this.#byName.get(canonical);
    if (alias === undefined) throw new NetApiError('NERR_NotLocalName', `"${canonical}" is not an alias of this computer.`);
    return alias;
  }

  /**
   * Adds and persists an alias (NetMessageNameAdd).
   * @throws NetApiError ERROR_INVALID_PARAMETER, NERR_AlreadyExists, NERR_TooManyNames, or the
   *   registrar's NERR_DuplicateName / NERR_NetworkError
   */
  async add(name: unknown, addedByUid: number | null = null): Promise<Alias> {
    const canonical = normalizeAlias(name, 'message name', this.#charset);
    // Checked and reserved before the first await, so concurrent adds see each other.
    if (this.#byName.has(canonical) || this.#adding.has(canonical)) {
      throw new NetApiError('NERR_AlreadyExists', `"${canonical}" is already an alias here.`);
    }
    const added = this.list().filter((a) => a.kind === 'added').length + this.#adding.size;
    if (added >= this.#maxAdded) {
      throw new NetApiError('NERR_TooManyNames', `This host allows ${this.#maxAdded} added aliases ("max aliases").`);
    }
    const alias: Alias = { name: canonical, kind: 'added' };
    this.#adding.add(canonical);
    try {
      await this.#registrar.register(alias);
      try {
        await this.#store.saveAlias(canonical, addedByUid);
      } catch (error) {
        // Not an alias after all: give the name back to the network.
        await this.#registrar.release(alias).catch(() => {});
        throw error;
      }
      this.#byName.set(canonical, alias);
      this.#owners.set(canonical, addedByUid);
      this.#version++;
      return alias;
    } finally {
      this.#adding.delete(canonical);
    }
  }

  /**
   * Deletes an alias (NetMessageNameDel). The computer name stays, as in the original.
   * @throws NetApiError ERROR_INVALID_PARAMETER, NERR_NotLocalName, NERR_DelComputerName
   */
  async delete(name: unknown): Promise<Alias> {
    const alias = this.get(name);
    if (alias.kind === 'computer') {
      throw new NetApiError('NERR_DelComputerName', `"${alias.name}" is this computer's name.`);
    }
    // Claimed before the first await: of two concurrent deletes, the second finds no alias.
    if (this.#deleting.has(alias.name)) throw new NetApiError('NERR_NotLocalName', `"${alias.name}" is not an alias of this computer.`);
    this.#deleting.add(alias.name);
    try {
      // Stored state first: if the store fails, the alias stays, in memory and after a restart alike.
      if (alias.kind === 'added') await this.#store.deleteAlias(alias.name);
      this.#byName.delete(alias.name);
      this.#owners.delete(alias.name);
      this.#version++;
    } finally {
      this.#deleting.delete(alias.name);
    }
    await this.#registrar.release(alias);
    return alias;
  }
}

function tryNormalize(name: string, charset: string): string | null {
  try {
    return normalizeAlias(name, 'name', charset);
  } catch {
    return null;
  }
}
