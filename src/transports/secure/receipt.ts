/** A sending host's question (op `receipt`): what became of a message it delivered here. */
import type { ControlServices } from '../../control/handlers.js';
import { NetApiError } from '../../messenger/errors.js';

/** The receipt of message `request.message`, if the host with key `fingerprint` sent it; other hosts' messages are not found. */
export async function answerReceipt(services: ControlServices, request: Record<string, unknown>, fingerprint: string): Promise<unknown> {
  const { receipts } = services;
  const id = request.message;
  if (receipts === undefined || typeof id !== 'number' || !Number.isSafeInteger(id)) throw new NetApiError('ERROR_INVALID_PARAMETER', 'A receipt needs a message id.');
  const message = await receipts.message(id);
  if (message === null || message.via !== 'netsend' || message.sender.host?.fingerprint !== fingerprint) {
    throw new NetApiError('ERROR_NOT_FOUND', `No message ${id} from this host is here.`);
  }
  return receipts.local(id);
}
