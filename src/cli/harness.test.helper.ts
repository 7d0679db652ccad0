/**
 * Runs `netsend …` in-process, as a user would see it: captured stdout and stderr, the exit code,
 * and a fake client in place of the daemon. Named *.test.helper.ts: the package leaves out
 * *.test.* files, and the test runner takes only *.test.js ones.
 */
import { Readable, Writable } from 'node:stream';
import type { ConnectOptions, RemoteConnectOptions } from '../lib/client.js';
import type { CliClient, CliIo } from './io.js';
import { runNetsend } from './netsend-cli.js';

/** The methods a test fakes; a namespace (users, inbox…) only in part. Anything else fails the call. */
export type FakeClient = {
  [K in keyof CliClient]?: CliClient[K] extends (...args: never[]) => unknown ? CliClient[K] : Partial<CliClient[K]>;
};

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** What each connect was asked: the local socket's options, or --server's. */
  connects: Array<{ local: ConnectOptions } | { remote: RemoteConnectOptions }>;
  /** Clients closed, so a test can see none is left open, failure or not. */
  closed: number;
}

export async function runCli(argv: string[], options: { client?: FakeClient; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  // written synchronously, so everything is there when runNetsend resolves
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const run: CliRun = { code: -1, stdout: '', stderr: '', connects: [], closed: 0 };
  // a cast: the fake holds only what the test needs; any other call fails as a call to a missing method would
  const client = () => ({ ...options.client, close: async () => void run.closed++ }) as unknown as CliClient;
  const io: CliIo = {
    stdin: Readable.from([options.input ?? ''], { objectMode: false }),
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
    env: options.env ?? { NETSEND_DATA_DIR: '/nonexistent/netsend-test' },
    connect: async (local) => (run.connects.push({ local }), client()),
    connectRemote: async (remote) => (run.connects.push({ remote }), client()),
  };
  run.code = await runNetsend(argv, io);
  return { ...run, stdout, stderr };
}
