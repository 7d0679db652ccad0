import type { Duplex } from 'node:stream';
import { NetApiError } from '../../messenger/errors.js';
import type { IncomingMessage } from '../../messenger/message.js';
import { peerOf, senderOf } from '../../messenger/sender.js';
import { SUFFIX } from '../../protocols/netbios-name/index.js';
import { NEGATIVE_RESPONSE, NbssFramer, encodeNbssPacket, type NbssPacket } from '../../protocols/nbss/index.js';
import {
  SMB_COMMAND,
  decodeSmbRequest,
  encodeSmbResponse,
  type SmbRequest,
  type SmbResponseBody,
  DOS_ERROR,
} from '../../protocols/smb1/index.js';
import { decodeReceivedText, decodeOemName } from '../legacy-text.js';
import { SMB_LIMITS } from './limits.js';

/** What a session needs of the Messenger service. */
export interface SessionMessenger {
  isAlias(name: string): boolean;
  /** Stores it, or relays it (the hub gateway); the session needs only to know it was taken. */
  receive(message: IncomingMessage): Promise<unknown>;
}

export interface SessionOptions {
  messenger: SessionMessenger;
  charset: string;
  /** "ip:port" of the peer, for the log and each message's sender. */
  remoteAddress: string;
  /** Largest reassembled text, in bytes (the daemon's "max message size"). */
  maxMessageBytes: number;
  idleMs?: number;
  messageMs?: number;
  frameMs?: number;
  /** Told the calling name (OEM-decoded, upper-case) once a session request is accepted. */
  onCaller?: (callingName: string) => void;
  log: (line: string) => void;
}

interface OpenGroup {
  from: string;
  to: string;
  blocks: Uint8Array[];
  bytes: number;
  /** When it is dropped unless ended (performance.now() time): looked at when it is used, not by a timer per message. */
  deadline: number;
}

/**
 * One NetBIOS session carrying SMB message commands ([MS-CIFS] §2.2.4.*), from the session
 * request to the close. Frames are handled in order, one at a time: a message is stored before
 * its success reply is written, and the stream is not read while that happens (back-pressure).
 *
 * Resolves when the session ends, for whatever reason; never rejects.
 */
export async function serveSmbSession(stream: Duplex, options: SessionOptions): Promise<void> {
  const framer = new NbssFramer();
  const groups = new Map<number, OpenGroup>();
  let nextGroupId = 1;
  /** The alias named in the session request; direct-TCP clients (smbclient -p N) send none. */
  let calledAlias: string | undefined;
  let established = false;

  const idleMs = options.idleMs ?? SMB_LIMITS.idleMs;
  // The idle time runs from the last request (a session request or an SMB message): keepalives,
  // which RFC 1002 lets either side send at will, do not extend it, so idle sockets cannot be held
  // forever. One timer for the session, not one per chunk: when it fires it ends an idle session,
  // or waits out what is left of the idle time since the last request. A request being handled
  // (its message being stored) is never cut off: its reply is what the client waits for.
  let lastRequest = performance.now();
  let handling = false;
  const idleCheck = () => {
    const left = lastRequest + idleMs - performance.now();
    if (left <= 0 && !handling) stream.destroy();
    else idle = setTimeout(idleCheck, left > 0 ? left : idleMs);
  };
  let idle = setTimeout(idleCheck, idleMs);
  const write = (packet: NbssPacket) => {
    if (!stream.destroyed) stream.write(encodeNbssPacket(packet));
  };

  const recipientFor = (destination: Uint8Array): string | undefined => {
    const named = decodeOemName(destination, options.charset);
    if (options.messenger.isAlias(named)) return named;
    // smbclient sends the -M argument as typed; the session request already named the alias.
    return calledAlias;
  };

  // the legacy wire proves only where a message came from: its sender is the peer's address
  const sender = senderOf(peerOf(options.remoteAddress));
  const deliver = async (from: string, to: string, text: Uint8Array): Promise<SmbResponseBody> => {
    try {
      await options.messenger.receive({
        from,
        to,
        text: decodeReceivedText(text, options.charset),
        via: 'smb',
        sender,
      });
      return { kind: 'ok' };
    } catch (error) {
      if (error instanceof NetApiError && error.statusName === 'NERR_NameNotFound') return { kind: 'error', error: DOS_ERROR.messageServerOff };
      if (error instanceof NetApiError && error.statusName === 'ERROR_ACCESS_DENIED') return { kind: 'error', error: DOS_ERROR.accessDenied };
      // over a rate at the front door (audited there): refused before anything is stored
      if (error instanceof NetApiError && error.statusName === 'NERR_NameInUse') return { kind: 'error', error: DOS_ERROR.noResources };
      options.log(`smb: storing a message from ${options.remoteAddress} failed: ${String(error)}`);
      return { kind: 'error', error: DOS_ERROR.serverError };
    }
  };

  /** The open multi-block message `id` names, unless it took too long (then it is dropped). */
  const openGroup = (id: number): OpenGroup | undefined => {
    const group = groups.get(id);
    if (group === undefined || group.deadline > performance.now()) return group;
    groups.delete(id);
    return undefined;
  };

  const handleSmb = async (request: SmbRequest): Promise<SmbResponseBody> => {
    switch (request.command) {
      case SMB_COMMAND.negotiate: {
        // [MS-CIFS] §2.2.4.52: answer the one dialect that carries the message commands
        const index = request.dialects.indexOf('NT LM 0.12');
        return index < 0 ? { kind: 'negotiate', dialectIndex: 0xffff } : { kind: 'negotiate', dialectIndex: index };
      }
      case SMB_COMMAND.sendMessage: {
        const to = recipientFor(request.destination);
        if (to === undefined) return { kind: 'error', error: DOS_ERROR.messageServerOff };
        if (request.text.length > options.maxMessageBytes) return { kind: 'error', error: DOS_ERROR.noRoom };
        return deliver(decodeOemName(request.originator, options.charset), to, request.text);
      }
      case SMB_COMMAND.sendStartMbMessage: {
        const to = recipientFor(request.destination);
        if (to === undefined) return { kind: 'error', error: DOS_ERROR.messageServerOff };
        // the timed-out ones go (openGroup drops them), so that they do not count against the limit
        for (const id of groups.keys()) openGroup(id);
        if (groups.size >= SMB_LIMITS.maxOpenGroups) return { kind: 'error', error: DOS_ERROR.noResources };
        const id = nextGroupId;
        nextGroupId = nextGroupId >= 0xffff ? 1 : nextGroupId + 1;
        groups.set(id, { from: decodeOemName(request.originator, options.charset), to, blocks: [], bytes: 0, deadline: performance.now() + (options.messageMs ?? SMB_LIMITS.messageMs) });
        return { kind: 'groupId', groupId: id };
      }
      case SMB_COMMAND.sendTextMbMessage: {
        const group = openGroup(request.groupId);
        if (group === undefined) return { kind: 'error', error: DOS_ERROR.invalidParameter };
        group.bytes += request.text.length;
        if (group.bytes > options.maxMessageBytes) {
          groups.delete(request.groupId);
          return { kind: 'error', error: DOS_ERROR.noRoom };
        }
        group.blocks.push(request.text);
        return { kind: 'ok' };
      }
      case SMB_COMMAND.sendEndMbMessage: {
        const group = openGroup(request.groupId);
        if (group === undefined) return { kind: 'error', error: DOS_ERROR.invalidParameter };
        groups.delete(request.groupId);
        return deliver(group.from, group.to, Buffer.concat(group.blocks));
      }
      default:
        return { kind: 'error', error: DOS_ERROR.unknownCommand };
    }
  };

  const handleFrame = async (packet: NbssPacket): Promise<boolean> => {
    switch (packet.type) {
      case 'keepalive':
        return true;
      case 'sessionRequest': {
        // RFC 1002 §4.3.2: the called name must be one this node listens on
        if (established) return false;
        const { called } = packet;
        const name = decodeOemName(Buffer.from(called.name, 'latin1'), options.charset);
        if (called.suffix !== SUFFIX.messenger || !options.messenger.isAlias(name)) {
          write({ type: 'negativeResponse', error: NEGATIVE_RESPONSE.calledNameNotPresent });
          return false;
        }
        calledAlias = name;
        established = true;
        write({ type: 'positiveResponse' });
        options.onCaller?.(decodeOemName(Buffer.from(packet.calling.name, 'latin1'), options.charset));
        return true;
      }
      case 'message': {
        established = true;
        let request: SmbRequest;
        try {
          request = decodeSmbRequest(packet.payload);
        } catch (error) {
          options.log(`smb: malformed request from ${options.remoteAddress}: ${(error as Error).message}`);
          return false;
        }
        const body = await handleSmb(request);
        write({ type: 'message', payload: encodeSmbResponse(request, body) });
        return true;
      }
      default:
        // responses, retargets: nothing a client sends to a server
        return false;
    }
  };

  // A peer trickling one byte at a time is held to a deadline from the frame's first byte.
  let frameDeadline: NodeJS.Timeout | undefined;
  /** Handles the frames one chunk completed, in order: false when the session is to end. */
  const handleFrames = async (packets: readonly NbssPacket[]): Promise<boolean> => {
    for (const packet of packets) {
      if (packet.type !== 'keepalive') lastRequest = performance.now();
      let goOn: boolean;
      handling = true;
      try {
        goOn = await handleFrame(packet);
      } finally {
        handling = false;
      }
      if (!goOn) return false;
    }
    return true;
  };
  const watchFrameDeadline = (completed: number) => {
    // the deadline runs from the first byte of the frame now pending, or from the end of the
    // requests handled before it, if it began while they were
    if (framer.buffered === 0 || completed > 0) {
      clearTimeout(frameDeadline);
      frameDeadline = undefined;
    }
    if (framer.buffered > 0) frameDeadline ??= setTimeout(() => stream.destroy(), options.frameMs ?? SMB_LIMITS.frameMs);
  };
  /** The frames being handled: the session is over only once they are, whatever ended the stream. */
  let inFlight: Promise<unknown> = Promise.resolve();
  try {
    // 'data' events, the stream paused while a chunk's frames are handled: what a for-await loop
    // does, without an iterator's promises for every chunk
    await new Promise<void>((resolve, reject) => {
      // the error listener stays: the stream is destroyed below, and whatever it says then is of no account
      const settle = (error?: unknown) => {
        stream.off('data', onData).off('end', ended).off('close', ended);
        if (error === undefined) resolve();
        else reject(error as Error);
      };
      const ended = () => settle();
      const onData = (chunk: Uint8Array) => {
        let packets: NbssPacket[];
        try {
          packets = framer.push(chunk);
        } catch (error) {
          return settle(error);
        }
        if (packets.length === 0) return watchFrameDeadline(0);
        stream.pause();
        // a request being handled is not cut off by the deadline of a frame behind it (set again after)
        clearTimeout(frameDeadline);
        frameDeadline = undefined;
        inFlight = handleFrames(packets).then((goOn) => {
          if (!goOn) {
            stream.end();
            return settle();
          }
          watchFrameDeadline(packets.length);
          stream.resume();
        }, settle);
      };
      stream.on('data', onData).once('end', ended).once('close', ended).on('error', settle);
    });
  } catch (error) {
    // a framing error (oversized or malformed frame) or a reset: the session is over
    if (!(error as NodeJS.ErrnoException).code?.startsWith('ECONN')) {
      options.log(`smb: closing the session from ${options.remoteAddress}: ${(error as Error).message}`);
    }
  } finally {
    await inFlight.catch(() => {});
    clearTimeout(idle);
    clearTimeout(frameDeadline);
    // After end() the last reply (a negative response, say) must still reach the peer: give it
    // a moment to flush and close before the socket is torn down.
    if (stream.writableEnded) setTimeout(() => stream.destroy(), 1000).unref();
    else stream.destroy();
  }
}
