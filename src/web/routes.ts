/**
 * The web inbox's routes: one fastify plugin per area (routes/), all behind the same guards
 * (routes/hooks.ts) and answering failures through one table (errors.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { WebContext } from './routes/context.js';
import { eventRoutes } from './routes/events.js';
import { installGuards } from './routes/hooks.js';
import { messageRoutes } from './routes/messages.js';
import { pageRoutes } from './routes/page.js';
import { publishRoutes } from './routes/publish.js';
import { sendRoutes } from './routes/send.js';
import { sessionRoutes } from './routes/session.js';
import { webMessage } from './routes/shared.js';

export type { RunControl, WebContext, WebMessage, WebReceipts, WebStore } from './routes/context.js';
export { ntfyPriority } from './routes/publish.js';

/** The areas, each a plugin given the context as its options. */
const AREAS = [pageRoutes, sessionRoutes, messageRoutes, sendRoutes, eventRoutes, publishRoutes];

/** Routes are added when the app is readied (listen, ready or inject), the guards at once. */
export function registerRoutes(app: FastifyInstance, context: WebContext): void {
  // Pages on the live stream see a message as the inbox API shows it.
  context.push.setRenderer((message) => webMessage(context, message));
  installGuards(app, context);
  for (const area of AREAS) app.register(area, context);
}
