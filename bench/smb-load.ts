/**
 * The sending client of `npm run bench:smb`: speaks the bytes smbclient -M sends (session
 * request to NAME<03>, SEND_START_MB, SEND_TEXT_MB, SEND_END_MB), built here by hand so the same
 * client measures every server; against an echo target it makes the same turns with no
 * messaging behind them (the floor).
 *
 *   node smb-load.js '{"targets":[{"label":"netsend","port":1139}],"seconds":5,"clients":4}'
 *
 * Prints one JSON line per target, mode and round: { label, mode, round, messagesPerSecond, p50, p99 }.
 */
import { connect, type Socket } from 'node:net';
import { percentile } from './stats.js';

interface Target {
  label: string;
  host?: string;
  port: number;
  name?: string;
  /** A bare echo server: the same four request/answer turns, no messaging work. */
  echo?: boolean;
}

const MESSAGE_TEXT = Buffer.from('benchmark message from the smb load client\r\n', 'latin1');

function netbiosName(name: string, suffix: number): Buffer {
  const raw = Buffer.alloc(16, 0x20);
  raw.write(name.toUpperCase().slice(0, 15), 'latin1');
  raw[15] = suffix;
  const out = Buffer.alloc(34);
  out[0] = 32;
  for (let i = 0; i < 16; i++) {
    out[1 + 2 * i] = 0x41 + ((raw[i] as number) >> 4);
    out[2 + 2 * i] = 0x41 + ((raw[i] as number) & 0x0f);
  }
  return out;
}

function nbss(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function smb(command: number, words: number[], bytes: Buffer): Buffer {
  const header = Buffer.alloc(32);
  Buffer.from([0xff, 0x53, 0x4d, 0x42]).copy(header);
  header[4] = command;
  header.writeUInt16LE(process.pid & 0xffff, 26);
  const wordBlock = Buffer.alloc(1 + words.length * 2 + 2);
  wordBlock[0] = words.length;
  words.forEach((w, i) => wordBlock.writeUInt16LE(w, 1 + i * 2));
  wordBlock.writeUInt16LE(bytes.length, 1 + words.length * 2);
  return nbss(0x00, Buffer.concat([header, wordBlock, bytes]));
}

const asciiz = (s: string) => Buffer.concat([Buffer.from([0x04]), Buffer.from(s, 'latin1'), Buffer.from([0])]);

/** Reads whole NBSS frames from a socket, one at a time. */
class FrameReader {
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: ((frame: Buffer) => void) | undefined;
  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#pump();
    });
  }
  next(): Promise<Buffer> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#pump();
    });
  }
  #pump(): void {
    if (!this.#waiting || this.#buffer.length < 4) return;
    const length = 4 + (((this.#buffer[1] as number) & 1) << 16) + this.#buffer.readUInt16BE(2);
    if (this.#buffer.length < length) return;
    const frame = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting(frame);
  }
}

function open(host: string, port: number): Promise<{ socket: Socket; reader: FrameReader }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => resolve({ socket, reader: new FrameReader(socket) }));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

async function sessionRequest(socket: Socket, reader: FrameReader, name: string): Promise<void> {
  socket.write(nbss(0x81, Buffer.concat([netbiosName(name, 0x03), netbiosName('BENCHCLIENT', 0x00)])));
  const answer = await reader.next();
  if (answer[0] !== 0x82) throw new Error(`session refused: ${answer.toString('hex')}`);
}

/** One message: D5, D7, D6, each answered before the next, as smbclient does. */
async function sendMessage(socket: Socket, reader: FrameReader, name: string): Promise<void> {
  socket.write(smb(0xd5, [], Buffer.concat([asciiz('bench'), asciiz(name)])));
  const started = await reader.next();
  const status = started.readUInt32LE(4 + 5);
  if (status !== 0) throw new Error(`D5 refused: ${started.toString('hex')}`);
  // smbd answers with word count 0 (group id 0), netsend with 1 (the group id)
  const groupId = started[4 + 32] === 1 ? started.readUInt16LE(4 + 33) : 0;
  const text = Buffer.concat([Buffer.from([0x01]), Buffer.alloc(2), MESSAGE_TEXT]);
  text.writeUInt16LE(MESSAGE_TEXT.length, 1);
  socket.write(smb(0xd7, [groupId], text));
  await reader.next();
  socket.write(smb(0xd6, [groupId], Buffer.alloc(0)));
  const ended = await reader.next();
  if (ended.readUInt32LE(4 + 5) !== 0) throw new Error(`D6 refused: ${ended.toString('hex')}`);
}

/** The floor: the same four request/answer turns against a server that echoes each frame. */
async function echoTurns(socket: Socket, reader: FrameReader, frames: Buffer[]): Promise<void> {
  for (const frame of frames) {
    socket.write(frame);
    await reader.next();
  }
}

async function measure(
  seconds: number,
  clients: number,
  once: (record: (ms: number) => void, client: number) => Promise<void>,
): Promise<{ messagesPerSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) await once((ms) => latencies.push(ms), client);
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { messagesPerSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * Idle sessions: `count` connections, `perAddress` from each of 127.0.1.1, 127.0.1.2, …, each
 * sending its session request and then nothing. Prints { held, refused } once every one is
 * answered, keeps the held ones open until standard input ends, then closes them.
 */
async function idle(port: number, count: number, perAddress: number): Promise<void> {
  const sockets: Socket[] = [];
  let held = 0;
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const localAddress = `127.0.1.${1 + Math.floor(i / perAddress)}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => {});
    sockets.push(socket);
    const reader = new FrameReader(socket);
    socket.write(nbss(0x81, Buffer.concat([netbiosName('BENCH', 0x03), netbiosName('IDLE', 0x00)])));
    // a refusal may be an answer (0x83) or the connection closed
    const answer = await Promise.race([reader.next(), new Promise<null>((resolve) => socket.once('close', () => resolve(null)))]);
    if (answer?.[0] === 0x82) held++;
    else refused++;
  }
  console.log(JSON.stringify({ held, refused }));
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  for (const socket of sockets) socket.destroy();
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as { targets: Target[]; seconds: number; clients: number; rounds?: number; modes?: string[]; idle?: { port: number; count: number; perAddress: number } };
  if (config.idle !== undefined) return idle(config.idle.port, config.idle.count, config.idle.perAddress);
  const echoFrames = [
    nbss(0x81, Buffer.concat([netbiosName('X', 3), netbiosName('Y', 0)])),
    smb(0xd5, [], Buffer.concat([asciiz('bench'), asciiz('X')])),
    smb(0xd7, [1], Buffer.concat([Buffer.from([1, MESSAGE_TEXT.length, 0]), MESSAGE_TEXT])),
    smb(0xd6, [1], Buffer.alloc(0)),
  ];

  // Rounds interleave the targets (netsend, smbd, echo, netsend, …), so that a machine whose
  // load drifts during the run weighs on each of them alike.
  for (const mode of ['one message per connection', 'many messages per session'] as const) {
    if (config.modes !== undefined && !config.modes.includes(mode)) continue;
    for (let round = 1; round <= (config.rounds ?? 1); round++) for (const target of config.targets) {
      const host = target.host ?? '127.0.0.1';
      const name = target.name ?? 'BENCH';
      const isEcho = target.echo === true;
      let result;
      if (mode === 'one message per connection') {
        result = await measure(config.seconds, config.clients, async (record) => {
          const t0 = performance.now();
          const { socket, reader } = await open(host, target.port);
          if (isEcho) await echoTurns(socket, reader, echoFrames);
          else {
            await sessionRequest(socket, reader, name);
            await sendMessage(socket, reader, name);
          }
          record(performance.now() - t0);
          socket.destroy();
        });
      } else {
        const sessions = await Promise.all(
          Array.from({ length: config.clients }, async () => {
            const session = await open(host, target.port);
            if (isEcho) await echoTurns(session.socket, session.reader, echoFrames.slice(0, 1));
            else await sessionRequest(session.socket, session.reader, name);
            return session;
          }),
        );
        result = await measure(config.seconds, config.clients, async (record, client) => {
          const { socket, reader } = sessions[client] as { socket: Socket; reader: FrameReader };
          const t0 = performance.now();
          if (isEcho) await echoTurns(socket, reader, echoFrames.slice(1));
          else await sendMessage(socket, reader, name);
          record(performance.now() - t0);
        });
        for (const { socket } of sessions) socket.destroy();
      }
      console.log(JSON.stringify({ label: target.label, mode, round, ...result }));
    }
  }
}

await main();
