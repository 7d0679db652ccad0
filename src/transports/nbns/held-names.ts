/**
 * The names this node holds, as the name service compares them: in the OEM code page and the
 * NetBIOS scope, less those another node defended when this one claimed them.
 */
import { netbiosNames, type NetbiosNameMapping } from '../../messenger/netbios-names.js';
import type { NetbiosName } from '../../protocols/netbios-name/index.js';

/** A name this node holds on the network. */
export interface OwnedName {
  /** As NetBIOS names go on the wire: OEM bytes as latin1, upper-cased by the code page's mapping (wireName). */
  readonly name: string;
  readonly suffix: number;
  readonly group: boolean;
}

export interface HeldNamesOptions {
  /** The names held right now (the alias table changes while the daemon runs). */
  names: () => readonly OwnedName[];
  /** The OEM code page of names (`dos charset`, default CP850): how a received name is upper-cased. */
  charset?: string;
  /** The NetBIOS scope (`netbios scope`, default ''). */
  scope?: string;
}

export const hex = (n: number) => n.toString(16).padStart(2, '0');
/** A name's key: "NAME<03>", as it goes on the wire. */
export const key = (n: Pick<OwnedName, 'name' | 'suffix'>) => `${n.name}<${hex(n.suffix)}>`;

export class HeldNames {
  readonly #options: HeldNamesOptions;
  /** Names another node defended when we claimed them: held locally, never answered for. */
  readonly #refused = new Set<string>();
  /** The last list `names()` gave, by canonical wire name (see #heldByName). */
  #nameIndex: { names: readonly OwnedName[]; byName: Map<string, OwnedName[]> } | undefined;
  #scopeOnWire: string | undefined;

  constructor(options: HeldNamesOptions) {
    this.#options = options;
  }

  /** Another node holds `name`: this one stops answering for it. */
  refuse(name: OwnedName): void {
    this.#refused.add(key(name));
  }

  /** `name` is being claimed again: answered for unless refused anew. */
  reclaim(name: OwnedName): void {
    this.#refused.delete(key(name));
  }

  /**
   * The held name a request names, compared as nmbd compares after `upcase_name`: the received
   * name and scope upper-cased by the code page's mapping (so CP850's 'Ó', 0xE0, is found however
   * it was asked for), the scope being part of the name (RFC 1001 §5.2). Refused names are not held.
   */
  find(name: NetbiosName): OwnedName | undefined {
    if (!this.inScope(name)) return undefined;
    const found = this.#heldByName().get(key({ name: this.#mapping.wireUpper(name.name), suffix: name.suffix }));
    return found?.find((n) => !this.#refused.has(key(n)));
  }

  /** A received name as people write it: decoded from the code page and upper-cased ("óscar" is "ÓSCAR"). */
  nameOf(name: NetbiosName): string {
    return this.#mapping.fromWire(this.#mapping.wireUpper(name.name));
  }

  /** Every name held and not refused. */
  held(): OwnedName[] {
    return this.#options.names().filter((n) => !this.#refused.has(key(n)));
  }

  /** A name for people: "ÓSCAR<03>", decoded from the code page (the wire form is its bytes as latin1). */
  shown(name: Pick<OwnedName, 'name' | 'suffix'>): string {
    return `${this.#mapping.fromWire(name.name)}<${hex(name.suffix)}>`;
  }

  /** Whether a received name is in this node's scope; scopes compare upper-cased, as in nmbd. */
  inScope(name: NetbiosName): boolean {
    return this.#mapping.wireUpper(name.scope) === this.scope;
  }

  /** This node's scope as it goes on the wire: upper-cased, as Samba keeps `netbios scope`. */
  get scope(): string {
    this.#scopeOnWire ??= this.#mapping.toWire(this.#options.scope ?? '');
    return this.#scopeOnWire;
  }

  /** The code page's name mapping (netbios-names.ts). */
  get #mapping(): NetbiosNameMapping {
    return netbiosNames(this.#options.charset);
  }

  /** The names held by canonical wire key, made again when `names()` returns another list. */
  #heldByName(): Map<string, OwnedName[]> {
    const names = this.#options.names();
    if (this.#nameIndex?.names !== names) {
      const byName = new Map<string, OwnedName[]>();
      for (const n of names) {
        const canonical = key({ name: this.#mapping.wireUpper(n.name), suffix: n.suffix });
        byName.set(canonical, [...(byName.get(canonical) ?? []), n]);
      }
      this.#nameIndex = { names, byName };
    }
    return this.#nameIndex.byName;
  }
}
