/**
 * The classic sample program: `sendnetmsg srcName dstName message`, a NetMessageBufferSend call
 * that prints the name of the error it gets, as the original sample did.
 */
import { parseArgs } from 'node:util';
import { connect } from '../lib/client.js';
import { NetMessageBufferSend } from '../lib/netapi.js';
import { NetApiError } from '../messenger/errors.js';
import { NERR, statusName } from '../messenger/status.js';
import { EXIT, type CliIo } from './io.js';

const USAGE = 'usage: sendnetmsg [--data-dir DIR] [--host IP[:PORT]] srcName dstName message';

export async function runSendnetmsg(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { 'data-dir': { type: 'string' }, host: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`sendnetmsg: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const [src, dst, ...words] = parsed.positionals;
  if (src === undefined || dst === undefined || words.length === 0) {
    io.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  // NetMessageBufferSend has no data-dir parameter: like every NetMessage* call it reads NETSEND_DATA_DIR.
  if (parsed.values['data-dir'] !== undefined) process.env.NETSEND_DATA_DIR = parsed.values['data-dir'];
  const message = words.join(' ');
  let status: number;
  if (parsed.values.host === undefined) {
    status = await NetMessageBufferSend(null, dst, src, message, message.length * 2);
  } else {
    status = await sendToHost(src, dst, message, parsed.values.host);
  }
  if (status === NERR.NERR_Success) return EXIT.ok;
  const name = statusName(status);
  io.stderr.write(name === undefined ? `Unknown error returned.\nError code ${status}\n` : `Error: ${name}\n`);
  return EXIT.failed;
}

/** --host has no counterpart in NetMessageBufferSend: the idiomatic API takes it. */
async function sendToHost(from: string, to: string, text: string, host: string): Promise<number> {
  try {
    const client = await connect();
    try {
      await client.send({ from, to, text, host });
    } finally {
      await client.close();
    }
    return NERR.NERR_Success;
  } catch (error) {
    return error instanceof NetApiError ? error.status : NERR.NERR_InternalError;
  }
}

