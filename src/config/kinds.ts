/**
 * The kinds of settings: how the loader reads each one's text (load.ts), and the type each
 * one's value has in `Config`, both derived from the one declaration in settings.ts.
 */

/**
 * 'enum': one of the setting's `values`, exactly as written; 'enum list': any number of them,
 * matched without case as Samba reads `name resolve order`, kept in the declared spelling.
 */
export type Kind = 'string' | 'boolean' | 'integer' | 'list' | 'ports' | 'enum' | 'enum list';

/** The value of a kind; for the enum kinds, V is the union of the declared values. */
export type ValueOf<K extends Kind, V extends string = never> = K extends 'string'
  ? string
  : K extends 'boolean'
    ? boolean
    : K extends 'integer'
      ? number
      : K extends 'ports'
        ? readonly number[]
        : K extends 'enum'
          ? V
          : K extends 'enum list'
            ? readonly V[]
            : readonly string[];

export interface Setting<K extends Kind, V extends string = never> {
  /** The config-file key, Samba's name where Samba has the setting. */
  readonly key: string;
  readonly kind: K;
  /** The fixed values of an enum kind, in the order its error message lists them. */
  readonly values?: readonly V[];
  readonly default: () => ValueOf<K, V>;
  /** Why the default is what it is (shown by `netsend help config`). */
  readonly why: string;
  readonly min?: number;
  readonly max?: number;
  /** A sentence saying what is wrong with a value, or null. */
  readonly check?: (value: ValueOf<K, V>) => string | null;
}

/** Declares a setting; V, the enum values' union, is inferred from `values`, which an enum kind must have. */
export const setting = <K extends Kind, const V extends string = never>(
  s: Setting<K, V> & (K extends 'enum' | 'enum list' ? { readonly values: readonly V[] } : unknown),
): Setting<K, V> => s;

/** The type a declared setting's value has: what its default gives. */
export type SettingValue<S extends { default: () => unknown }> = ReturnType<S['default']>;

/** An enum's error message, as the settings' own checks said it before the enum kind. */
export function enumProblem(kind: 'enum' | 'enum list', values: readonly string[]): string {
  if (kind === 'enum') return `must be one of ${values.join(', ')}`;
  return `may hold only ${values.slice(0, -1).join(', ')} and ${values.at(-1) ?? ''}`;
}
