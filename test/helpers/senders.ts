/** Senders for tests that need many messages fast: an SMB session, and a netsend host on the secure channel. */
import { generateKeyPairSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { LineFramer } from '../../src/control/protocol.js';
import { NbssFramer, encodeNbssPacket, type NbssPacket } from '../../src/protocols/nbss/index.js';
import { SMB_COMMAND, decodeSmbResponse, encodeSmbRequest } from '../../src/protocols/smb1/index.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import { signMessage } from '../../src/security/host-identity.js';

/** An SMB session from `localAddress` that sends single-block messages one after another. */
export async function smbSession(port: number, localAddress: string) {
  const socket: Socket = connect({ port, host: '127.0.0.1', localAddress });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const framer = new NbssFramer();
  const frames: NbssPacket[] = [];
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    frames.push(...framer.push(chunk));
    waiting?.();
  });
  let mid = 0;
  return {
    /** true when the message was accepted, false when refused */
    send: async (from: string, text: string, to = 'TESTHOST'): Promise<boolean> => {
      const payload = encodeSmbRequest(
        { command: SMB_COMMAND.sendMessage, originator: Buffer.from(from), destination: Buffer.from(to), text: Buffer.from(text) },
        { mid: mid++, pid: 1 },
      );
      socket.write(encodeNbssPacket({ type: 'message', payload }));
      while (frames.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
      const frame = frames.shift() as NbssPacket;
      return frame.type === 'message' && decodeSmbResponse(frame.payload, SMB_COMMAND.sendMessage).status.kind === 'success';
    },
    close: () => socket.destroy(),
  };
}

/** A netsend host of the test's own (a fresh Ed25519 key) delivering messages over the secure channel from `localAddress`. */
export async function secureHostSession(port: number, localAddress: string, hostName: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const tcp = connect({ port, host: '127.0.0.1', localAddress });
  const socket = tlsConnect({
    socket: tcp,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
    key: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    cert: selfSignedCertificate(hostName, publicKey, privateKey),
  });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const framer = new LineFramer();
  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    lines.push(...framer.push(chunk));
    waiting?.();
  });
  const next = async () => {
    while (lines.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
    return JSON.parse(lines.shift() as string) as { ok?: boolean; status?: number };
  };
  await next(); // hello
  let id = 0;
  return {
    send: async (from: string, text: string, to = 'TESTHOST'): Promise<boolean> => {
      const fields = { from, to, text, title: null, user: null, sentAt: new Date().toISOString(), host: hostName, priority: 'normal', ttl: null };
      socket.write(`${JSON.stringify({ id: ++id, op: 'deliver', ...fields, signature: signMessage(fields, privateKey) })}\n`);
      return (await next()).ok === true;
    },
    close: () => socket.destroy(),
  };
}

