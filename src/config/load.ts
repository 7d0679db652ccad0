import { readFileSync } from 'node:fs';
import { enumProblem } from './kinds.js';
import { dataDirPaths } from './paths.js';
import { CROSS_FIELD_RULES } from './rules.js';
import { SETTINGS, envName, flagName, type SettingName, type Settings } from './settings.js';
import { canonicalKey, parseSmbConf } from './smbconf.js';

export interface Config extends Settings {
  readonly dataDir: string;
  /** Where each value came from, for `netsend config` and error messages. */
  readonly sources: { readonly [P in SettingName]: 'flag' | 'environment' | 'file' | 'default' };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfigSources {
  dataDir: string;
  /** Values given as flags, by setting name (already split from argv). */
  flags?: Partial<Record<SettingName, string>>;
  env?: NodeJS.ProcessEnv;
  /** The config file; default `<dataDir>/netsend.conf`, which may be absent. */
  configFile?: string;
}

const byFileKey = new Map(Object.entries(SETTINGS).map(([name, s]) => [canonicalKey(s.key), name as SettingName]));

/**
 * The daemon's configuration: flag > environment > file > default, each value parsed and checked
 * once, then the rules between settings (rules.ts), the result frozen. Unknown file keys are an
 * error that names the key.
 */
export function loadConfig(sources: ConfigSources): Config {
  const env = sources.env ?? process.env;
  const fileValues = readConfigFile(sources.configFile ?? dataDirPaths(sources.dataDir).config, sources.configFile !== undefined);
  const values: Record<string, unknown> = { dataDir: sources.dataDir };
  const origin: Record<string, string> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const candidates: Array<[Config['sources'][SettingName], string | undefined, string]> = [
      ['flag', sources.flags?.[name], `--${flagName(name)}`],
      ['environment', env[envName(name)], envName(name)],
      ['file', fileValues.get(name)?.value, fileValues.get(name)?.where ?? ''],
    ];
    const found = candidates.find(([, value]) => value !== undefined);
    const value = found === undefined ? SETTINGS[name].default() : parseValue(name, found[1] as string, found[2]);
    values[name] = Array.isArray(value) ? Object.freeze([...value]) : value;
    origin[name] = found?.[0] ?? 'default';
  }
  // Pointing a host at the hub is all it takes: with no order chosen, the hub is asked last.
  if (origin.nameResolveOrder === 'default' && (values.hubServers as readonly string[]).length > 0) {
    values.nameResolveOrder = Object.freeze([...(values.nameResolveOrder as readonly string[]), 'hub']);
  }
  for (const rule of CROSS_FIELD_RULES) {
    const problem = rule(values as unknown as Settings);
    if (problem !== null) throw new ConfigError(problem);
  }
  values.sources = Object.freeze(origin);
  return Object.freeze(values) as unknown as Config;
}

function readConfigFile(path: string, required: boolean): Map<SettingName, { value: string; where: string }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ConfigError(`Cannot read the config file ${path}: ${(error as Error).message}`);
  }
  const result = new Map<SettingName, { value: string; where: string }>();
  for (const entry of parseSmbConf(text, path)) {
    const name = byFileKey.get(entry.key);
    if (name === undefined) throw new ConfigError(`${path}:${entry.line}: unknown setting "${entry.key}"`);
    result.set(name, { value: entry.value, where: `${path}:${entry.line}` });
  }
  return result;
}

function parseValue(name: SettingName, raw: string, where: string): unknown {
  const spec = SETTINGS[name];
  const fail = (what: string) => new ConfigError(`${where}: "${spec.key}" = ${JSON.stringify(raw)} ${what}`);
  const choices: readonly string[] = 'values' in spec ? spec.values : [];
  let value: unknown;
  switch (spec.kind) {
    case 'string':
      value = raw.trim();
      break;
    case 'boolean': {
      const word = raw.trim().toLowerCase();
      if (['yes', 'true', '1', 'on'].includes(word)) value = true;
      else if (['no', 'false', '0', 'off'].includes(word)) value = false;
      else throw fail('is not yes or no');
      break;
    }
    case 'integer': {
      const text = raw.trim();
      if (!/^\d+$/.test(text)) throw fail('is not a whole number');
      const n = Number(text);
      if ('min' in spec && n < spec.min) throw fail(`is below the minimum ${spec.min}`);
      if ('max' in spec && n > spec.max) throw fail(`is above the maximum ${spec.max}`);
      value = n;
      break;
    }
    case 'list':
      value = Object.freeze(raw.split(/[\s,]+/).filter((w) => w !== ''));
      break;
    case 'ports': {
      const words = raw.split(/[\s,]+/).filter((w) => w !== '');
      if (words.length === 0 || words.some((w) => !/^\d{1,5}$/.test(w) || Number(w) > 65535)) throw fail('is not a list of ports (0-65535)');
      // 0 turns the listener off, as --smb-ports 0 does
      value = Object.freeze([...new Set(words.map(Number).filter((port) => port !== 0))]);
      break;
    }
    case 'enum': {
      const word = raw.trim();
      if (!choices.includes(word)) throw fail(enumProblem(spec.kind, choices));
      value = word;
      break;
    }
    case 'enum list': {
      // matched without case, as Samba does; the declared spelling is kept so the value has its type
      const words = raw.split(/[\s,]+/).filter((w) => w !== '').map((w) => choices.find((c) => c.toLowerCase() === w.toLowerCase()));
      if (words.includes(undefined)) throw fail(enumProblem(spec.kind, choices));
      value = Object.freeze(words);
      break;
    }
  }
  const check = 'check' in spec ? (spec.check as (v: unknown) => string | null) : undefined;
  const problem = check?.(value);
  if (problem) throw fail(problem);
  return value;
}
