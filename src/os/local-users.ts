import { readFileSync } from 'node:fs';

/**
 * Login names by uid, from /etc/passwd (Node has no getpwuid). Read at most once a minute: a
 * local caller's name decides its netsend groups and its alias rules.
 */
export class LocalUsers {
  readonly #path: string;
  #byUid = new Map<number, string>();
  #names = new Set<string>();
  #readAt = -Infinity;

  constructor(path = '/etc/passwd') {
    this.#path = path;
  }

  nameOf(uid: number | null): string | null {
    if (uid === null) return null;
    if (Date.now() - this.#readAt > 60_000) this.#read();
    return this.#byUid.get(uid) ?? null;
  }

  /** The login names of this host's accounts (as passwd spells them). */
  names(): ReadonlySet<string> {
    if (Date.now() - this.#readAt > 60_000) this.#read();
    return this.#names;
  }

  #read(): void {
    this.#readAt = Date.now();
    const byUid = new Map<number, string>();
    const names = new Set<string>();
    try {
      for (const line of readFileSync(this.#path, 'utf8').split('\n').slice(0, 100_000)) {
        const [name, , uid] = line.split(':');
        if (name && uid && /^\d+$/.test(uid) && !byUid.has(Number(uid))) byUid.set(Number(uid), name);
        if (name) names.add(name);
      }
    } catch {
      // no passwd file (macOS keeps users elsewhere): callers are known by uid only
    }
    this.#byUid = byUid;
    this.#names = names;
  }
}
