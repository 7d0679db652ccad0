/** What became of a message a caller sent: here, or at the netsend host it went to. */
import { NetApiError } from '../../messenger/errors.js';
import type { Receipt } from '../../messenger/events.js';
import { isRemote } from '../../security/access.js';
import { operation, wholeNumber } from '../operation.js';

export const receiptOperations = {
  receipt: operation<{ message: number; host?: string }>()({
    action: 'send',
    run: async ({ services, principal }, params): Promise<Receipt> => {
      const messageId = wholeNumber(params.message, 0, 'message');
      const { receipts } = services;
      if (receipts === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'Receipts are off on this daemon.');
      if (typeof params.host === 'string') {
        if (receipts.remote === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'Receipts from other hosts need the secure channel.');
        return receipts.remote(params.host, messageId, { name: principal.name || null, administrator: services.access.isAdmin(principal) });
      }
      const message = await receipts.message(messageId);
      // a sender sees the receipts of its own messages (a remote account: those it sent by a remote call); administrators all
      const own = isRemote(principal)
        ? message?.sender.address != null && message.sender.user === principal.name
        : principal.uid !== null && message?.sender.address === null && message.sender.uid === principal.uid;
      if (message === null || (!services.access.isAdmin(principal) && (message.via !== 'local' || !own))) {
        // a message of its own status, not the alias one; another's is "not found" too, so ids reveal nothing
        throw new NetApiError('ERROR_NOT_FOUND', `No message ${messageId} of yours is here.`);
      }
      return receipts.local(messageId);
    },
  }),
};
