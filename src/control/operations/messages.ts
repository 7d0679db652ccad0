/** Sending and reading messages: NET SEND, NET SEND * and /USERS, the inbox, acknowledging. */
import { NetApiError } from '../../messenger/errors.js';
import { messageToJson } from '../../messenger/message.js';
import type { Priority } from '../../messenger/message.js';
import { operation, pageLimit, wholeNumber } from '../operation.js';
import { readableBy } from '../ownership.js';

export const messageOperations = {
  send: operation<{ to: string; from?: string | null; text: string; title?: string | null; host?: string; priority?: Priority; ttl?: number }>()({
    action: 'send',
    run: ({ services, caller }, { to, from, text, title, host, priority, ttl }) =>
      services.messenger.send({ to, from, text, title, priority, ttl, ...(host === undefined ? {} : { host }) }, caller),
  }),
  broadcast: operation<{ from?: string | null; text: string; domain?: string | null }>()({
    action: 'send',
    run: ({ services, caller }, { from, text, domain }) => services.messenger.broadcast({ from, text, domain }, caller),
  }),
  sendUsers: operation<{ from?: string | null; text: string }>()({
    action: 'send',
    run: ({ services, caller }, { from, text }) => services.messenger.sendToSessionUsers({ from, text }, caller),
  }),
  'inbox.list': operation<{ afterId?: number; limit?: number }>()({
    action: 'inbox.read',
    run: async ({ services, principal }, params) => {
      const afterId = wholeNumber(params.afterId, 0, 'afterId');
      const limit = pageLimit(params.limit);
      return (await services.messenger.inbox(afterId, limit, readableBy(services, principal))).map(messageToJson);
    },
  }),
  // the last `limit` messages (below id `before`, when given: inbox --limit pages back with it),
  // read newest first: a daemon too old for this op answers "not supported" rather than the oldest
  'inbox.latest': operation<{ limit?: number; before?: number }>()({
    action: 'inbox.read',
    run: async ({ services, principal }, params) => {
      const before = wholeNumber(params.before, 0, 'before');
      return (await services.messenger.latest(pageLimit(params.limit), readableBy(services, principal), before === 0 ? null : before)).map(messageToJson);
    },
  }),
  // OK on the pop-up, from a terminal: `netsend ack ID`
  'inbox.ack': operation<{ message: number }>()({
    action: 'inbox.read',
    run: async ({ services, principal }, params) => {
      const messageId = wholeNumber(params.message, 0, 'message');
      if (services.receipts === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'Receipts are off on this daemon.');
      const message = await services.receipts.message(messageId);
      const readable = readableBy(services, principal);
      if (message === null || (readable !== null && !readable.includes(message.to))) {
        throw new NetApiError('ERROR_NOT_FOUND', `No message ${messageId} for you is here.`);
      }
      return services.receipts.acknowledge(message, 'cli', principal.name || (principal.uid === null ? null : `uid ${principal.uid}`));
    },
  }),
};
