import { SETTINGS, envName, flagName, type SettingName } from '../../config/settings.js';
import { EXIT, type CliIo } from '../io.js';
import type { Command } from '../shared.js';
import { USAGE } from '../usage.js';

/** `netsend help [config]`: the usage, or every setting with its default and why. */
export const command: Command = { name: 'help', aliases: ['--help', '-h'], run };

async function run(args: string[], io: CliIo): Promise<number> {
  io.stdout.write(`${args[0] === 'config' ? configHelp() : USAGE}\n`);
  return EXIT.ok;
}

function configHelp(): string {
  const lines = ['Settings (flag > environment > <data dir>/netsend.conf [global] > default):', ''];
  for (const [name, spec] of Object.entries(SETTINGS)) {
    const setting = name as SettingName;
    lines.push(`  ${spec.key}  --${flagName(setting)}  ${envName(setting)}  default: ${formatValue(spec.default())}`);
    lines.push(`      ${spec.why}`);
  }
  return lines.join('\n');
}

/** A value as the file and the README write it: yes/no, ports and lists space-separated, '' for nothing. */
function formatValue(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length === 0 ? "''" : value.join(' ');
  return value === '' ? "''" : String(value);
}
