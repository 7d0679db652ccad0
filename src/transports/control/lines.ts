import type { Socket } from 'node:net';
import { LineFramer, encodeLine, type Hello, type Response } from '../../control/protocol.js';
import { NetApiError } from '../../messenger/errors.js';
import { NERR } from '../../messenger/status.js';

export interface LineConnectionOptions {
  hello: Hello;
  /** Answers one request (already parsed to an object); errors become responses. */
  handle: (request: Record<string, unknown>) => Promise<unknown>;
  log: (line: string) => void;
  /** Requests one connection may have in flight before the daemon stops reading from it. */
  maxInFlight?: number;
  /** Longest request line: a number, or a function when the limit changes during the session. */
  maxLineBytes?: number | (() => number);
}

/**
 * One JSON-lines connection (the control socket, the secure channel): untrusted lines in, one
 * handler call per request, answers tagged with the request's id. Returns a promise for the
 * requests under way, so a server can let them finish when it closes.
 */
export function serveLineConnection(socket: Socket, options: LineConnectionOptions): { settled: () => Promise<void> } {
  const inFlight = new Set<Promise<void>>();
  const framer = new LineFramer(options.maxLineBytes);
  const maxInFlight = options.maxInFlight ?? 64;
  let pending = 0;
  socket.on('error', () => {}); // a client that vanishes is not the daemon's problem
  socket.write(encodeLine(options.hello));

  const onData = (chunk: Buffer) => {
    let lines: string[];
    try {
      lines = framer.push(chunk);
    } catch (error) {
      options.log(`control: dropping a client: ${(error as Error).message}`);
      // The peer is told why (status 87, id 0: the line's id was never read), then the connection
      // closes. What it still sends is read and dropped for a moment, so that it can read the answer.
      socket.off('data', onData);
      socket.on('data', () => {});
      socket.resume();
      const status = { id: 0, ok: false as const, status: NERR.ERROR_INVALID_PARAMETER, message: `The request line is longer than this connection allows: ${(error as Error).message}.` };
      socket.end(encodeLine(status));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    for (const line of lines) {
      pending++;
      if (pending >= maxInFlight) socket.pause();
      const done = answer(line, options).then((response) => {
        if (!socket.destroyed && !socket.writableEnded) socket.write(encodeLine(response));
        pending--;
        if (pending < maxInFlight && !socket.destroyed) socket.resume();
      });
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    }
  };
  socket.on('data', onData);
  return { settled: async () => void (await Promise.allSettled([...inFlight])) };
}

async function answer(line: string, options: LineConnectionOptions): Promise<Response> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return { id: 0, ok: false, status: NERR.ERROR_INVALID_PARAMETER, message: 'The request is not valid JSON.' };
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { id: 0, ok: false, status: NERR.ERROR_INVALID_PARAMETER, message: 'The request must be a JSON object.' };
  }
  const body = request as Record<string, unknown>;
  const id = typeof body.id === 'number' && Number.isSafeInteger(body.id) ? body.id : 0;
  try {
    return { id, ok: true, result: await options.handle(body) };
  } catch (error) {
    if (error instanceof NetApiError) return { id, ok: false, status: error.status, message: error.message };
    options.log(`control: ${String(body.op)} failed: ${(error as Error).stack ?? String(error)}`);
    return { id, ok: false, status: NERR.NERR_InternalError, message: 'An internal error occurred in the netsend daemon.' };
  }
}
