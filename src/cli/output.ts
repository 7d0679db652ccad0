import { NetApiError } from '../messenger/errors.js';
import { NERR, describeStatus, statusMessage } from '../messenger/status.js';
import { EXIT, type CliIo } from './io.js';

/**
 * Reports a failed call: the status in words with its name and number (and the daemon's detail
 * on the next line), or the JSON envelope with --json. Returns the exit code.
 */
export function reportFailure(io: CliIo, error: unknown, json: boolean): number {
  const failure = error instanceof NetApiError ? error : NetApiError.fromStatus(NERR.NERR_InternalError, `An internal error occurred: ${String(error)}`);
  if (json) {
    io.stdout.write(`${JSON.stringify(failure.toJSON())}\n`);
  } else {
    io.stderr.write(`${describeStatus(failure.status)}\n`);
    const detail = failure.message.startsWith(statusMessage(failure.status))
      ? failure.message.slice(statusMessage(failure.status).length).trim()
      : failure.message;
    if (detail !== '') io.stderr.write(`${detail}\n`);
  }
  return failure.status === NERR.ERROR_ACCESS_DENIED ? EXIT.denied : EXIT.failed;
}
