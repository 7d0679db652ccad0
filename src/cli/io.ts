import type { Readable, Writable } from 'node:stream';
import type { Client, ConnectOptions, RemoteConnectOptions } from '../lib/client.js';

/** The client's public methods: what commands call, so a test can stand a fake in for the daemon. */
export type CliClient = { [K in keyof Client]: Client[K] };

/** What a command may touch: injectable so tests run commands in-process. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Opens the local daemon's control socket; default `connect` of src/lib/client.ts. */
  connect?: (options: ConnectOptions) => Promise<CliClient>;
  /** Opens another host's daemon over the secure channel (--server); default `connectRemote`. */
  connectRemote?: (options: RemoteConnectOptions) => Promise<CliClient>;
}

export const processIo = (): CliIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });

/**
 * Exit codes: 0 done, 1 the call failed (a NET_API_STATUS), 2 the command line was wrong, 3 a
 * `send --wait` was not acknowledged in time, 5 the call was refused (ERROR_ACCESS_DENIED, or a
 * failed logon), so scripts can tell these apart.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notAcknowledged: 3, denied: 5 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads stdin to the end, refusing more than `maxBytes`. */
export async function readAll(stdin: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buffer.length;
    if (total > maxBytes) throw new UsageError(`The message on standard input is over ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
