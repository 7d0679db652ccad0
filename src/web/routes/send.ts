/** Compose (NET SEND's targets) and the aliases: list, add, delete. */
import type { FastifyPluginAsync } from 'fastify';
import { badRequest } from '../errors.js';
import { identify, mutating } from './callers.js';
import type { Caller, WebContext } from './context.js';
import { control, jsonBody, ownAlias } from './shared.js';

export const sendRoutes: FastifyPluginAsync<WebContext> = async (app, context) => {
  /** NET SEND's targets: NAME, `*` (the workgroup) or `/domain[:NAME]`. */
  const sendTo = (caller: Caller, to: unknown, text: unknown, from: string | null) => {
    if (typeof to !== 'string' || to.trim() === '') throw badRequest('Say whom the message is for.');
    const target = to.trim();
    const domain = /^\/domain(?::(.*))?$/i.exec(target);
    if (target === '*' || domain) {
      return control(context, caller, { op: 'broadcast', from, text, domain: domain?.[1] ? domain[1] : null });
    }
    return control(context, caller, { op: 'send', to: target, from, text });
  };

  app.post('/api/send', async (request) => {
    const caller = await mutating(context, request);
    const body = jsonBody(request);
    return sendTo(caller, body.to, body.text, ownAlias(context, caller.principal));
  });

  app.get('/api/aliases', async (request) => control(context, await identify(context, request), { op: 'names.list' }));

  app.post('/api/aliases', async (request) => {
    const caller = await mutating(context, request);
    return control(context, caller, { op: 'names.add', name: jsonBody(request).name });
  });

  app.delete<{ Params: { name: string } }>('/api/aliases/:name', async (request) => {
    const caller = await mutating(context, request);
    return control(context, caller, { op: 'names.delete', name: request.params.name });
  });
};
