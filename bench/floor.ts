/**
 * The durable floor: the least a messenger does per message when each reply waits for its own
 * durable commit, as a server of its own process. For each request it makes one fsync'd SQLite
 * commit of the request's text (WAL, synchronous=FULL: the durability the store gives), on its main thread,
 * and then replies; nothing else. A benchmark puts netsend beside it in the same run and judges
 * netsend's tail as a ratio to it. (Under concurrency netsend can beat it: its group commit lets
 * one fsync serve many messages, which the floor, one commit a request, does not.)
 *
 *   node floor.js lines SOCKET_PATH DB_PATH   JSON lines on a Unix socket, as the control socket:
 *                                             {"id":N,"text":…} is answered {"id":N,"ok":true,…}
 *   node floor.js nbss PORT DB_PATH            NetBIOS session frames on 127.0.0.1:PORT, echoed as
 *                                             the echo floor does; the SMB message's end (D6)
 *                                             first commits the text its D7 brought
 *   node floor.js web SOCKET_PATH DB_PATH PORT  as `lines`, and each committed text is pushed to
 *                                             the pages open at http://127.0.0.1:PORT/ (one list,
 *                                             Server-Sent Events), the least a web inbox does
 *
 * Prints `listening` on stdout once it serves. Stops on SIGTERM.
 */
import Database from 'better-sqlite3';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';

const [mode, where, dbPath] = process.argv.slice(2);
if ((mode !== 'lines' && mode !== 'nbss' && mode !== 'web') || where === undefined || dbPath === undefined) {
  console.error('usage: floor.js lines SOCKET_PATH DB_PATH | floor.js nbss PORT DB_PATH | floor.js web SOCKET_PATH DB_PATH PORT');
  process.exit(2);
}

const db = new Database(dbPath);
db.pragma('locking_mode = EXCLUSIVE');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
const insert = db.prepare('INSERT INTO floor (body) VALUES (?)');
/** One commit: better-sqlite3 runs each statement outside a transaction as its own. */
const commit = (body: string | Buffer) => Number(insert.run(body).lastInsertRowid);

/** The open pages' event streams (web mode). */
const streams = new Set<ServerResponse>();

/** JSON lines in, JSON lines out: the control socket's framing, without its operations. */
function serveLines(socket: Socket): void {
  let partial = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const request = JSON.parse(line) as { id: number; text: string };
      const id = commit(request.text);
      for (const stream of streams) stream.write(`data: ${JSON.stringify({ id, text: request.text })}\n\n`);
      socket.write(`${JSON.stringify({ id: request.id, ok: true, result: { id } })}\n`);
    }
  });
}

/** The page: one list, each pushed message added to it as the web inbox adds one (`li` with a `.text`). */
const PAGE = `<!doctype html><meta charset="utf-8"><title>floor</title><ul id="messages"></ul><script>
const events = new EventSource('/events');
events.onopen = () => (document.body.dataset.live = 'on');
events.onmessage = (event) => {
  const message = JSON.parse(event.data);
  const item = document.createElement('li');
  const text = document.createElement('div');
  text.className = 'text';
  text.textContent = message.text;
  item.append(text);
  document.querySelector('#messages').prepend(item);
};
</script>`;

function serveHttp(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/events') {
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    response.write(':\n\n');
    streams.add(response);
    request.on('close', () => streams.delete(response));
    return;
  }
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
}

/** NBSS frames echoed back, a D6 (SEND_END_MB) after committing the last D7's bytes. */
function serveFrames(socket: Socket): void {
  socket.setNoDelay(true);
  let buffer: Buffer = Buffer.alloc(0);
  let text: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4) {
      const length = 4 + (((buffer[1] as number) & 1) << 16) + buffer.readUInt16BE(2);
      if (buffer.length < length) return;
      const frame = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      const command = frame[0] === 0x00 && frame.length > 8 ? frame[8] : undefined;
      if (command === 0xd7) text = Buffer.from(frame.subarray(4 + 32));
      if (command === 0xd6) commit(text);
      socket.write(frame);
    }
  });
}

const server = createServer((socket) => {
  socket.on('error', () => socket.destroy());
  (mode === 'nbss' ? serveFrames : serveLines)(socket);
});
const http = mode === 'web' ? createHttpServer(serveHttp) : undefined;
server.on('listening', () => {
  if (http === undefined) console.log('listening');
  else http.listen(Number(process.argv[5]), '127.0.0.1', () => console.log('listening'));
});
if (mode === 'nbss') server.listen(Number(where), '127.0.0.1');
else server.listen(where);
process.on('SIGTERM', () => {
  for (const stream of streams) stream.end();
  http?.close();
  server.close();
  db.close();
  process.exit(0);
});
