import type { Config } from '../config/load.js';
import { NetApiError } from '../messenger/errors.js';
import { WebServer, type WebServerOptions } from '../web/server.js';
import { codeOf, skippable } from './listeners.js';

/** The web inbox; at the default port, a port already taken (a second daemon) or not allowed leaves it off. */
export async function startWeb(config: Config, log: (line: string) => void, options: WebServerOptions): Promise<WebServer | undefined> {
  try {
    return await WebServer.start(options);
  } catch (error) {
    if (skippable(error, config.sources.httpPort)) {
      log(`cannot listen on port ${config.httpPort} (${(error as NodeJS.ErrnoException).code}); the web inbox is off. Choose a port with --http-port`);
      return undefined;
    }
    throw new NetApiError('NERR_MsgInitFailed', `Cannot start the web inbox on ${config.httpBind}:${config.httpPort}: ${codeOf(error)}.`, { cause: error });
  }
}
