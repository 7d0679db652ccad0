import { SETTINGS, flagName, type SettingName } from '../../config/settings.js';
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
  const lines = ['Settings (flag > NETSEND_* environment > <data dir>/netsend.conf [global] > default):', ''];
  for (const [name, spec] of Object.entries(SETTINGS)) {
    const value = spec.default();
    lines.push(`  ${spec.key}  (--${flagName(name as SettingName)})  default: ${Array.isArray(value) ? value.join(' ') : String(value)}`);
    lines.push(`      ${spec.why}`);
  }
  return lines.join('\n');
}
