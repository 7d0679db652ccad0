/**
 * What several areas use: who sees which message, the JSON a message is shown as, JSON bodies,
 * and control operations run for a caller.
 */
import type { FastifyRequest } from 'fastify';
import { hasBeenAcknowledged, hasBeenRead, type MessageStates } from '../../messenger/events.js';
import { messageToJson, type StoredMessage } from '../../messenger/message.js';
import type { Messenger } from '../../messenger/messenger.js';
import { aliasProblem, oemUpperCase } from '../../messenger/names.js';
import type { Principal } from '../../security/access.js';
import { badRequest, HttpError, notFound } from '../errors.js';
import { canSee, type Viewer } from '../push.js';
import type { Caller, WebContext, WebMessage } from './context.js';

/**
 * Who sees what: the owner and administrators everything, others the messages to their alias
 * and the workgroup. Aliases as messages are stored: upper case in the OEM code page
 * (normalizeAlias), so É is É in the list's SQL (NOCASE folds ASCII only) as on the live stream.
 */
export function viewerOf(context: WebContext, caller: Caller): Viewer {
  const { services } = context;
  return {
    seesAll: caller.owner || services.access.isAdmin(caller.principal),
    recipients: [oemUpperCase(caller.principal.name, services.messenger.charset), oemUpperCase(context.workgroup, services.messenger.charset)],
  };
}

/**
 * Whether a reply to this message has somewhere to go: the one rule the page offers Reply by
 * (the reply route still checks everything when it sends). The sender's name must be one a
 * message can be addressed to at all; an alias here takes the reply here; a name that came from
 * another host (the secure channel, the hub, the legacy wire) is looked up as any send's is, by
 * `name resolve order`. A local sender's name that is no alias here (written with --from, or an
 * alias deleted since) names no host: a reply would fail with NERR_NameNotFound (2273).
 */
export function canReplyTo(messenger: Pick<Messenger, 'aliases' | 'charset'>, message: Pick<StoredMessage, 'from' | 'via'>): boolean {
  if (aliasProblem(message.from, messenger.charset) !== null) return false;
  if (messenger.aliases.find(message.from) !== undefined) return true;
  return message.via !== 'local';
}

export const webMessage = (context: Pick<WebContext, 'services'>, message: StoredMessage, states?: MessageStates): WebMessage => ({
  ...messageToJson(message),
  canReply: canReplyTo(context.services.messenger, message),
  state: { read: hasBeenRead(states), acknowledged: hasBeenAcknowledged(states), latest: states?.latest ?? null },
});

/** Messages with what became of each, read from the store in one call. */
export async function withStates(context: WebContext, messages: StoredMessage[]): Promise<WebMessage[]> {
  const states = new Map((await context.store.latestMessageStates(messages.map((m) => m.id))).map((s) => [s.messageId, s]));
  return messages.map((m) => webMessage(context, m, states.get(m.id)));
}

/** The message, if this caller may see it; else "no such message", so ids reveal nothing. */
export async function visibleMessage(context: WebContext, caller: Caller, rawId: unknown): Promise<StoredMessage> {
  const id = Number(rawId);
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound();
  const message = await context.store.getMessage(id);
  if (message === null || !canSee(viewerOf(context, caller), message.to)) throw notFound();
  return message;
}

/** From whom a page's message goes: the caller's own alias here, else null (the computer name). */
export function ownAlias(context: WebContext, principal: Principal): string | null {
  const alias = principal.name === '' ? undefined : context.services.messenger.aliases.find(principal.name);
  return alias?.name ?? null;
}

/**
 * Runs a control operation under the control socket's access rules (and its audit), and its
 * messages through the front door as coming over the web (or ntfy's publish).
 */
export const control = (context: WebContext, caller: Caller, request: Record<string, unknown>, over: 'web' | 'ntfy' = 'web'): Promise<unknown> =>
  context.control(request, { ...caller.principal, over });

/** A JSON object body; other types are refused (a form post from another site cannot send JSON). */
export function jsonBody(request: FastifyRequest): Record<string, unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'ERROR_INVALID_PARAMETER', 'Send JSON (Content-Type: application/json).');
  return jsonObject(request.body, { notJson: 'The body is not valid JSON.', notObject: 'The body must be a JSON object.' });
}

/** A request body that must be a JSON object, whatever its Content-Type; 400 with the words given otherwise. */
export function jsonObject(body: unknown, words: { notJson: string; notObject: string }): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : '');
  } catch {
    throw badRequest(words.notJson);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(words.notObject);
  return value as Record<string, unknown>;
}
