import { ConfigError } from '../config/load.js';
import { ConfSyntaxError } from '../config/smbconf.js';
import { COMMANDS } from './commands/index.js';
import { EXIT, UsageError, type CliIo } from './io.js';
import { reportFailure } from './output.js';
import { isParseArgsError } from './shared.js';
import { usageOf } from './usage.js';

// the send command's wait loop, where its tests have always found it
export { waitForAcknowledgement } from './commands/send.js';

/** Runs `netsend …` and resolves to the exit code. */
export async function runNetsend(argv: readonly string[], io: CliIo): Promise<number> {
  const [word, ...rest] = argv;
  const command = word === undefined ? undefined : COMMANDS.get(word);
  try {
    if (command === undefined) throw new UsageError(word === undefined ? 'a command is needed' : `unknown command "${word}"`);
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      // the command's own usage: what the person was trying to write
      io.stderr.write(`netsend: ${(error as Error).message}\n${usageOf(command?.name)}\n`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError || error instanceof ConfSyntaxError) {
      io.stderr.write(`netsend: ${error.message}\n`);
      return EXIT.usage;
    }
    return reportFailure(io, error, argv.includes('--json'));
  }
}
