/**
 * The benchmarks' side of the durable floor (floor.ts): starting it as a process of its own, and
 * a client of its JSON lines, pipelined as the library's client speaks to the daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FLOOR = fileURLToPath(new URL('./floor.js', import.meta.url));

export interface FloorClient {
  send(text: string): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Starts the floor in `dir` (its socket and database there), serving JSON lines, and in `web`
 * mode its page on 127.0.0.1:`port` too; resolves once it listens.
 */
export async function startFloor(mode: 'lines' | 'web', dir: string, port?: number): Promise<{ child: ChildProcess; socket: string }> {
  const socket = join(dir, 'floor.sock');
  const child = spawn(process.execPath, [FLOOR, mode, socket, join(dir, 'floor.db'), ...(port === undefined ? [] : [String(port)])], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the durable floor exited ${code}`)));
  });
  return { child, socket };
}

/** A client of the floor's JSON lines: a send resolves when its commit is answered. */
export function floorClient(path: string): Promise<FloorClient> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(path);
    const pending = new Map<number, (error?: Error) => void>();
    let nextId = 1;
    let partial = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const { id } = JSON.parse(line) as { id: number };
        pending.get(id)?.();
        pending.delete(id);
      }
    });
    socket.once('error', reject);
    // the floor gone: what waits fails rather than waits for ever
    socket.once('close', () => {
      for (const [, done] of pending) done(new Error('the durable floor closed the connection'));
      pending.clear();
    });
    socket.once('connect', () =>
      resolve({
        send: (text) =>
          new Promise<void>((sent, failed) => {
            const id = nextId++;
            pending.set(id, (error) => (error === undefined ? sent() : failed(error)));
            socket.write(`${JSON.stringify({ id, op: 'send', to: 'BENCH', text })}\n`);
          }),
        close: async () => void socket.end(),
      }),
    );
  });
}
