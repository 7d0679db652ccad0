import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.js';
import { resolveDataDir } from '../../config/paths.js';
import { SETTINGS, flagName, type SettingName } from '../../config/settings.js';
import { EXIT, type CliIo } from '../io.js';
import { common, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend serve`: runs the Messenger service until SIGINT or SIGTERM. */
export const command: Command = { name: 'serve', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const settingFlags = Object.fromEntries(
    (Object.keys(SETTINGS) as SettingName[]).map((name) => [flagName(name), { type: 'string' as const }]),
  );
  const { values } = parseArgs({
    args,
    options: { ...common, config: { type: 'string' }, ...settingFlags },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return printUsage(io);
  const flags: Partial<Record<SettingName, string>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = (values as Record<string, unknown>)[flagName(name)];
    if (typeof value === 'string') flags[name] = value;
  }
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const config = loadConfig({ dataDir, flags, env: io.env, ...(values.config === undefined ? {} : { configFile: values.config }) });
  // A log whose reader went away (EPIPE) drops its lines; an unhandled 'error' on it would end the daemon.
  let logGone = false;
  io.stderr.on('error', () => (logGone = true));
  const log = (line: string) => {
    if (!logGone) io.stderr.write(`netsend: ${line}\n`);
  };
  // loaded to serve only: every other command starts without the daemon's modules (half the time and memory of `netsend send`)
  const { Daemon } = await import('../../daemon/daemon.js');
  const daemon = await Daemon.start(config, { stdout: io.stdout, log });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log(`${signal}: stopping`);
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      // A second signal while draining ends the process at once.
      process.once('SIGINT', () => process.exit(130)).once('SIGTERM', () => process.exit(143));
      resolve();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  await daemon.stop();
  return EXIT.ok;
}
