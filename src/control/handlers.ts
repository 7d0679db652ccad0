import { NetApiError } from '../messenger/errors.js';
import { messageToJson } from '../messenger/message.js';
import type { Caller, Messenger } from '../messenger/messenger.js';

/** Most messages one `inbox.list` returns; clients page with `afterId`. */
export const MAX_INBOX_PAGE = 1000;

export interface DaemonInfo {
  readonly pid: number;
  readonly dataDir: string;
  readonly workgroup: string;
  readonly startedAt: string;
}

/**
 * Runs one control request against the Messenger service. The request is untrusted JSON: the
 * domain validates every field and answers with NetApiError.
 */
export async function handleRequest(
  messenger: Messenger,
  info: DaemonInfo,
  request: Record<string, unknown>,
  caller: Caller,
): Promise<unknown> {
  switch (request.op) {
    case 'send': {
      const { to, from, text, host } = request;
      return messenger.send(host === undefined ? { to, from, text } : { to, from, text, host }, caller);
    }
    case 'broadcast':
      return messenger.broadcast({ from: request.from, text: request.text, domain: request.domain }, caller);
    case 'sendUsers':
      return messenger.sendToSessionUsers({ from: request.from, text: request.text }, caller);
    case 'names.list':
      return messenger.listNames();
    case 'names.get':
      return messenger.aliases.get(request.name);
    case 'names.add':
      return messenger.aliases.add(request.name, caller.uid);
    case 'names.delete':
      return messenger.aliases.delete(request.name);
    case 'inbox.list': {
      const afterId = wholeNumber(request.afterId, 0, 'afterId');
      const limit = Math.min(wholeNumber(request.limit, MAX_INBOX_PAGE, 'limit'), MAX_INBOX_PAGE);
      return (await messenger.inbox(afterId, limit)).map(messageToJson);
    }
    case 'status':
      return { computerName: messenger.computerName, ...info, aliases: messenger.listNames().length };
    default:
      throw new NetApiError('ERROR_NOT_SUPPORTED', `Unknown control operation ${JSON.stringify(request.op)}.`);
  }
}

function wholeNumber(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a whole number.`);
  }
  return value;
}
