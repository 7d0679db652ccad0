import { connect as tcpConnect, type Socket } from 'node:net';
import { NetApiError } from '../../messenger/errors.js';
import type { OutgoingMessage, SendReport } from '../../messenger/messenger.js';
import { legacyText } from '../../messenger/outgoing.js';
import type { StatusName } from '../../messenger/status.js';
import { SUFFIX } from '../../protocols/netbios-name/index.js';
import { NEGATIVE_RESPONSE, NbssFramer, encodeNbssPacket, type NbssPacket } from '../../protocols/nbss/index.js';
import {
  MAX_SINGLE_BLOCK_TEXT,
  MB_TEXT_BLOCK,
  SMB_COMMAND,
  decodeSmbResponse,
  encodeOem,
  encodeSmbRequest,
  type SmbRequestBody,
  type SmbResponse,
  type SmbStatus,
} from '../../protocols/smb1/index.js';
import type { Endpoint } from '../../resolve/resolver.js';
import { LEGACY_MAX_TEXT_BYTES, SMB_LIMITS } from './limits.js';
import { encodeTextForWire, wireName } from '../legacy-text.js';

export interface SmbSenderOptions {
  /** This host's NetBIOS name: the calling name of each session. */
  callingName: string;
  charset: string;
  /** The NetBIOS scope (`netbios scope`): the session request's names carry it, as smbclient's do. */
  scope?: string;
  timeoutMs?: number;
}

/**
 * How the outcomes of the legacy wire become NET_API_STATUS values.
 *
 * | outcome                                                  | status                   |
 * | -------------------------------------------------------- | ------------------------ |
 * | name not in any resolver (resolve/router.ts)             | NERR_NameNotFound 2273   |
 * | connection refused, reset, unreachable, timed out        | NERR_NetworkError 2136   |
 * | negative session response 0x80, 0x82 (name not there)    | NERR_NameNotFound 2273   |
 * | negative session response 0x81 (caller not accepted)     | ERROR_ACCESS_DENIED 5    |
 * | negative session response 0x83 (insufficient resources)  | NERR_NameInUse 2283      |
 * | negative session response 0x8F, anything unexpected      | NERR_NetworkError 2136   |
 * | SMB ERRSRV/ERRpaused (81)                                 | NERR_PausedRemote 2281   |
 * | SMB ERRSRV/ERRmsgoff (82)                                 | NERR_NameNotFound 2273   |
 * | SMB access denied (ERRDOS/5, ERRSRV/4, NT 0xC0000022)      | ERROR_ACCESS_DENIED 5    |
 * | any other SMB error (ERRDOS/71 from smbd with messaging   | NERR_BadReceive 2282     |
 * | off, ERRnoroom, ERRnomem, …)                              |                          |
 */
export const NEGATIVE_SESSION_STATUS: Readonly<Record<number, StatusName>> = {
  [NEGATIVE_RESPONSE.notListeningOnCalledName]: 'NERR_NameNotFound',
  [NEGATIVE_RESPONSE.calledNameNotPresent]: 'NERR_NameNotFound',
  [NEGATIVE_RESPONSE.notListeningForCallingName]: 'ERROR_ACCESS_DENIED',
  [NEGATIVE_RESPONSE.insufficientResources]: 'NERR_NameInUse',
};

export function smbErrorStatus(status: SmbStatus): StatusName {
  if (status.kind === 'success') return 'NERR_Success';
  if (status.kind === 'nt') return status.code === 0xc0000022 ? 'ERROR_ACCESS_DENIED' : 'NERR_BadReceive';
  if (status.errorClass === 0x02 && status.code === 81) return 'NERR_PausedRemote';
  if (status.errorClass === 0x02 && status.code === 82) return 'NERR_NameNotFound';
  if ((status.errorClass === 0x01 && status.code === 5) || (status.errorClass === 0x02 && status.code === 4)) return 'ERROR_ACCESS_DENIED';
  return 'NERR_BadReceive';
}

/**
 * Sends messages to other hosts over the NetBIOS session service and SMB message commands, as
 * Windows' Messenger and `smbclient -M` do: a session to NAME<03>, then one single-block message
 * (after NEGOTIATE, which smbd requires before it) when the text fits, or start / text blocks of
 * 127 bytes / end otherwise. Which host, and whether the secure channel goes first, is the
 * router's choice (resolve/router.ts).
 */
export class SmbSender {
  readonly #options: SmbSenderOptions;

  constructor(options: SmbSenderOptions) {
    this.#options = options;
  }

  /**
   * Sends `message` to NAME<03> at `endpoint` in the OEM code page.
   * @throws NetApiError (see the table above); ERROR_INVALID_PARAMETER when the text is over LEGACY_MAX_TEXT_BYTES there
   */
  async deliver(message: OutgoingMessage, endpoint: Endpoint): Promise<SendReport> {
    const { charset } = this.#options;
    const encoded = encodeTextForWire(legacyText(message), charset);
    // An empty text goes as one NUL byte, as smbclient sends it: smbd refuses an empty block.
    const text = encoded.bytes.length === 0 ? Uint8Array.of(0) : encoded.bytes;
    if (text.length > LEGACY_MAX_TEXT_BYTES) {
      throw new NetApiError(
        'ERROR_INVALID_PARAMETER',
        `The message is ${text.length} bytes in ${charset}; the legacy message service carries at most ${LEGACY_MAX_TEXT_BYTES}.`,
      );
    }
    await this.#sendBlocks(message, text, endpoint);
    return { lossy: encoded.lossy, charset };
  }

  /** Sends the encoded `text` to NAME<03> at `endpoint`: single-block when it fits, else multi-block. */
  async #sendBlocks(message: OutgoingMessage, text: Uint8Array, endpoint: { address: string; port: number }): Promise<void> {
    const { charset } = this.#options;
    const from = encodeOem(message.from, charset).bytes;
    const to = encodeOem(message.to, charset).bytes;

    if (text.length <= MAX_SINGLE_BLOCK_TEXT) {
      const sent = await this.#withSession(endpoint, message.to, async (exchange) => {
        const negotiated = await exchange({ command: SMB_COMMAND.negotiate, dialects: ['NT LM 0.12'] }, false);
        if (negotiated.status.kind !== 'success' || negotiated.dialectIndex !== 0) return false;
        await exchange({ command: SMB_COMMAND.sendMessage, originator: from, destination: to, text });
        return true;
      });
      if (sent) return;
      // The peer does not negotiate NT LM 0.12: every messenger takes the multi-block commands.
    }
    await this.#withSession(endpoint, message.to, async (exchange) => {
      const started = await exchange({ command: SMB_COMMAND.sendStartMbMessage, originator: from, destination: to });
      // smbd answers with no group id (wc 0): smbclient then uses 0, and so do we.
      const groupId = started.groupId ?? 0;
      for (let offset = 0; offset < text.length; offset += MB_TEXT_BLOCK) {
        await exchange({ command: SMB_COMMAND.sendTextMbMessage, groupId, text: text.subarray(offset, offset + MB_TEXT_BLOCK) });
      }
      await exchange({ command: SMB_COMMAND.sendEndMbMessage, groupId });
    });
  }

  /**
   * Opens a session to NAME<03> at `endpoint`, runs `work` with a request/response exchange on
   * it, and closes it. Every failure becomes a NetApiError (see the table above).
   */
  async #withSession<T>(
    endpoint: { address: string; port: number },
    name: string,
    work: (exchange: (request: SmbRequestBody, failOnError?: boolean) => Promise<SmbResponse>) => Promise<T>,
  ): Promise<T> {
    const where = `${endpoint.address}:${endpoint.port}`;
    const connection = await NbssConnection.open(endpoint, this.#options.timeoutMs ?? SMB_LIMITS.sendTimeoutMs);
    try {
      const scope = wireName(this.#options.scope ?? '', this.#options.charset);
      const answer = await connection.exchange({
        type: 'sessionRequest',
        called: { name: wireName(name, this.#options.charset), suffix: SUFFIX.messenger, scope },
        calling: { name: wireName(this.#options.callingName, this.#options.charset), suffix: SUFFIX.workstation, scope },
      });
      if (answer.type === 'negativeResponse') {
        const status = NEGATIVE_SESSION_STATUS[answer.error] ?? 'NERR_NetworkError';
        throw new NetApiError(status, `${where} refused a session to ${name}<03> (negative session response 0x${answer.error.toString(16)}).`);
      }
      if (answer.type !== 'positiveResponse') throw new NetApiError('NERR_NetworkError', `${where} answered the session request with a ${answer.type} frame.`);

      let mid = 0;
      return await work(async (request, failOnError = true) => {
        const reply = await connection.exchange({ type: 'message', payload: encodeSmbRequest(request, { mid: mid++, pid: process.pid }) });
        if (reply.type !== 'message') throw new NetApiError('NERR_NetworkError', `${where} answered an SMB request with a ${reply.type} frame.`);
        const response = decodeSmbResponse(reply.payload, request.command);
        if (failOnError && response.status.kind !== 'success') {
          throw new NetApiError(smbErrorStatus(response.status), `${where} refused the message (${describeSmbStatus(response.status)}).`);
        }
        return response;
      });
    } finally {
      connection.close();
    }
  }
}

function describeSmbStatus(status: SmbStatus): string {
  if (status.kind === 'nt') return `NT status 0x${status.code.toString(16).padStart(8, '0')}`;
  if (status.kind === 'dos') return `${status.errorClass === 1 ? 'ERRDOS' : status.errorClass === 2 ? 'ERRSRV' : `class ${status.errorClass}`}/${status.code}`;
  return 'success';
}

/** A client's NetBIOS session: one request on the wire at a time, each answered by one frame. */
class NbssConnection {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #framer = new NbssFramer();
  readonly #frames: NbssPacket[] = [];
  #waiter: ((frame: NbssPacket | Error) => void) | undefined;
  #failure: Error | undefined;

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.#framer.push(chunk)) if (frame.type !== 'keepalive') this.#deliver(frame);
      } catch (error) {
        this.#fail(new NetApiError('NERR_NetworkError', `The peer sent a malformed frame: ${(error as Error).message}`));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => this.#fail(networkError(error)));
    socket.on('close', () => this.#fail(new NetApiError('NERR_NetworkError', 'The peer closed the connection.')));
  }

  static open(endpoint: { address: string; port: number }, timeoutMs: number): Promise<NbssConnection> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: endpoint.address, port: endpoint.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new NetApiError('NERR_NetworkError', `No connection to ${endpoint.address}:${endpoint.port} within ${timeoutMs} ms.`));
      }, timeoutMs);
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(networkError(error, `${endpoint.address}:${endpoint.port}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new NbssConnection(socket, timeoutMs));
      });
    });
  }

  exchange(frame: NbssPacket): Promise<NbssPacket> {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#socket.write(encodeNbssPacket(frame));
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new NetApiError('NERR_NetworkError', `No answer within ${this.#timeoutMs} ms.`)), this.#timeoutMs);
      this.#waiter = (result) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
    });
  }

  close(): void {
    this.#failure ??= new NetApiError('NERR_NetworkError', 'The session is closed.');
    this.#socket.destroy();
  }

  #deliver(frame: NbssPacket): void {
    if (this.#waiter) this.#waiter(frame);
    else this.#frames.push(frame);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#waiter?.(this.#failure);
  }
}

function networkError(error: NodeJS.ErrnoException, where = 'the peer'): NetApiError {
  return new NetApiError('NERR_NetworkError', `Cannot reach ${where}: ${error.code ?? error.message}.`, { cause: error });
}
