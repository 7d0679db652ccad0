import { readFileSync } from 'node:fs';
import { EXIT, type CliIo } from '../io.js';
import type { Command } from '../shared.js';

/** `netsend --version`. */
export const command: Command = { name: 'version', aliases: ['--version'], run };

async function run(_args: string[], io: CliIo): Promise<number> {
  io.stdout.write(`netsend ${packageVersion()}\n`);
  return EXIT.ok;
}

/** The version in package.json, beside dist/ in the checkout and in an installed package alike. */
function packageVersion(): string {
  // this file is dist/src/cli/commands/version.js
  const manifest = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
