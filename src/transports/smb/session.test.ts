import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { IncomingMessage, StoredMessage } from '../../messenger/message.js';
import { senderOf } from '../../messenger/sender.js';
import { NbssFramer, encodeNbssPacket, type NbssPacket } from '../../protocols/nbss/index.js';
import { SMB_COMMAND, decodeSmbResponse, encodeSmbRequest, type SmbRequestBody, type SmbResponse } from '../../protocols/smb1/index.js';
import { serveSmbSession } from './session.js';

const oem = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** A session served over an in-memory stream pair, with a client that speaks frames. */
function harness(options: { maxMessageBytes?: number; messageMs?: number; idleMs?: number; frameMs?: number; aliases?: readonly string[]; receiveMs?: number } = {}) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const stored: IncomingMessage[] = [];
  const logs: string[] = [];
  const stream = Duplex.from({ readable: toServer, writable: toClient });
  const served = serveSmbSession(stream, {
    messenger: {
      isAlias: (name) => (options.aliases ?? ['ALICE']).includes(name),
      receive: async (message): Promise<StoredMessage> => {
        if (options.receiveMs !== undefined) await new Promise((r) => setTimeout(r, options.receiveMs));
        stored.push(message);
        return { ...message, id: stored.length, receivedAt: new Date() };
      },
    },
    charset: 'CP850',
    remoteAddress: '192.0.2.7:4000',
    maxMessageBytes: options.maxMessageBytes ?? 1000,
    messageMs: options.messageMs ?? 30_000,
    idleMs: options.idleMs ?? 30_000,
    frameMs: options.frameMs ?? 30_000,
    log: (line) => logs.push(line),
  });
  const framer = new NbssFramer();
  const inbox: NbssPacket[] = [];
  toClient.on('data', (chunk: Buffer) => inbox.push(...framer.push(chunk)));
  const next = async (): Promise<NbssPacket> => {
    for (let i = 0; i < 200 && inbox.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const packet = inbox.shift();
    assert.ok(packet, 'the server answered');
    return packet;
  };
  let mid = 0;
  const smb = async (body: SmbRequestBody): Promise<SmbResponse> => {
    toServer.write(encodeNbssPacket({ type: 'message', payload: encodeSmbRequest(body, { mid: mid++, pid: 42 }) }));
    const reply = await next();
    assert.equal(reply.type, 'message');
    return decodeSmbResponse((reply as { payload: Uint8Array }).payload, body.command);
  };
  const sessionRequest = async (name: string, suffix = 0x03, calling = 'CLIENT') => {
    toServer.write(encodeNbssPacket({ type: 'sessionRequest', called: { name, suffix, scope: '' }, calling: { name: calling, suffix: 0, scope: '' } }));
    return next();
  };
  return { toServer, stream, stored, logs, served, smb, sessionRequest, next, end: () => toServer.end() };
}

const dos = (errorClass: number, code: number) => ({ kind: 'dos', errorClass, code });

describe('serveSmbSession', () => {
  test('reads names as Samba does in the code page: called óscar (CP850 0xA2…) is the alias ÓSCAR (0xE0…), ß stays ß', async () => {
    const h = harness({ aliases: ['ÓSCAR'] });
    assert.deepEqual(await h.sessionRequest('\xa2scar', 0x03, 'stra\xe1e'), { type: 'positiveResponse' });
    const sent = await h.smb({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('stra\xe1e'), destination: oem('\xe0SCAR') });
    assert.deepEqual(sent.status, { kind: 'success' });
    await h.smb({ command: SMB_COMMAND.sendTextMbMessage, groupId: sent.groupId as number, text: oem('hola') });
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendEndMbMessage, groupId: sent.groupId as number })).status, { kind: 'success' });
    assert.deepEqual(h.stored.map((m) => [m.from, m.to, m.text]), [['STRAßE', 'ÓSCAR', 'hola']]);
    h.end();
    await h.served;
  });

  test('accepts a session request to ALIAS<03> and refuses any other called name with 0x82', async () => {
    let h = harness();
    assert.deepEqual(await h.sessionRequest('alice'), { type: 'positiveResponse' });
    h.end();
    await h.served;
    for (const [name, suffix] of [['NOBODY', 0x03], ['ALICE', 0x20]] as const) {
      h = harness();
      assert.deepEqual(await h.sessionRequest(name, suffix), { type: 'negativeResponse', error: 0x82 });
      await h.served;
    }
  });

  test('stores a multi-block message, then answers the end block; several messages share a session', async () => {
    const h = harness();
    await h.sessionRequest('ALICE');
    for (const text of ['first\r\nmessage', 'second']) {
      const start = await h.smb({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('bob'), destination: oem('alice') });
      assert.deepEqual(start.status, { kind: 'success' });
      const groupId = start.groupId as number;
      for (let i = 0; i < text.length; i += 3) {
        assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendTextMbMessage, groupId, text: oem(text.slice(i, i + 3)) })).status, { kind: 'success' });
      }
      assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendEndMbMessage, groupId })).status, { kind: 'success' });
    }
    assert.deepEqual(
      h.stored.map(({ from, to, text, via, sender }) => ({ from, to, text, via, sender })),
      [
        { from: 'BOB', to: 'ALICE', text: 'first\nmessage', via: 'smb', sender: senderOf({ address: '192.0.2.7', port: 4000 }) },
        { from: 'BOB', to: 'ALICE', text: 'second', via: 'smb', sender: senderOf({ address: '192.0.2.7', port: 4000 }) },
      ],
    );
    h.end();
    await h.served;
  });

  test('answers NEGOTIATE with NT LM 0.12, then takes a single-block message (CP850 text)', async () => {
    const h = harness();
    const negotiated = await h.smb({ command: SMB_COMMAND.negotiate, dialects: ['PC NETWORK PROGRAM 1.0', 'NT LM 0.12'] });
    assert.equal(negotiated.dialectIndex, 1);
    assert.equal((await h.smb({ command: SMB_COMMAND.negotiate, dialects: ['LANMAN1.0'] })).dialectIndex, 0xffff);
    const sent = await h.smb({ command: SMB_COMMAND.sendMessage, originator: oem('bob'), destination: oem('ALICE'), text: Uint8Array.of(0x63, 0x61, 0x66, 0x82) });
    assert.deepEqual(sent.status, { kind: 'success' });
    assert.equal(h.stored[0]?.text, 'café');
    h.end();
    await h.served;
  });

  test('refuses what it cannot take with DOS errors, and keeps the session usable', async () => {
    const h = harness({ maxMessageBytes: 10 });
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('bob'), destination: oem('nobody') })).status, dos(2, 82));
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendTextMbMessage, groupId: 77, text: oem('x') })).status, dos(1, 87));
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendEndMbMessage, groupId: 77 })).status, dos(1, 87));
    const start = await h.smb({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('bob'), destination: oem('alice') });
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendTextMbMessage, groupId: start.groupId as number, text: oem('0123456789AB') })).status, dos(2, 83));
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendEndMbMessage, groupId: start.groupId as number })).status, dos(1, 87), 'an oversized group is dropped');
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendMessage, originator: oem('bob'), destination: oem('alice'), text: oem('fits') })).status, { kind: 'success' });
    assert.equal(h.stored.length, 1);
    h.end();
    await h.served;
  });

  test('limits open multi-block messages per session and drops one that takes too long', async () => {
    const h = harness({ messageMs: 50 });
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push((await h.smb({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('b'), destination: oem('alice') })).groupId as number);
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('b'), destination: oem('alice') })).status, dos(2, 89));
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual((await h.smb({ command: SMB_COMMAND.sendEndMbMessage, groupId: ids[0] as number })).status, dos(1, 87), 'timed-out group is gone');
    const again = await h.smb({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('b'), destination: oem('alice') });
    assert.deepEqual(again.status, { kind: 'success' }, 'the timed-out groups no longer count against the limit');
    h.end();
    await h.served;
  });

  test('closes the session on a malformed SMB message, an oversized frame, or when idle', async () => {
    let h = harness();
    h.toServer.write(encodeNbssPacket({ type: 'message', payload: oem('not smb at all') }));
    await h.served;
    assert.match(h.logs.join('\n'), /malformed request/);

    h = harness();
    h.toServer.write(Uint8Array.of(0x00, 0x01, 0xff, 0xff));
    await h.served;
    assert.match(h.logs.join('\n'), /over the .*-byte limit/);

    h = harness({ idleMs: 30 });
    await h.served; // ends by itself
  });

  test('a peer trickling a frame a byte at a time is cut off at the frame deadline, though each byte beats the idle timer', async () => {
    const h = harness({ idleMs: 200, frameMs: 150 });
    const frame = encodeNbssPacket({ type: 'sessionRequest', called: { name: 'ALICE', suffix: 0x03, scope: '' }, calling: { name: 'SLOW', suffix: 0, scope: '' } });
    let ended = false;
    void h.served.then(() => (ended = true));
    const started = Date.now();
    for (let i = 0; i < frame.length - 1 && !ended; i++) {
      h.toServer.write(frame.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.served;
    assert.ok(ended, 'the session ended before the frame was whole');
    assert.ok(Date.now() - started < frame.length * 20, 'within the deadline, not after the whole trickle');
  });

  test('a message whose storing takes longer than the idle time still gets its reply', async () => {
    const h = harness({ idleMs: 60, receiveMs: 200 });
    const reply = await h.smb({ command: SMB_COMMAND.sendMessage, originator: oem('bob'), destination: oem('alice'), text: oem('slow disk') });
    assert.deepEqual(reply.status, { kind: 'success' });
    assert.equal(h.stored.length, 1);
    await h.served; // and the idle session ends after it
  });

  test('a session torn down while its message is being stored is over only once the store has answered', async () => {
    const h = harness({ receiveMs: 200 });
    h.toServer.write(encodeNbssPacket({ type: 'message', payload: encodeSmbRequest({ command: SMB_COMMAND.sendMessage, originator: oem('bob'), destination: oem('alice'), text: oem('mid-store') }, { mid: 1, pid: 42 }) }));
    await new Promise((r) => setTimeout(r, 50));
    // a reset, or the daemon stopping: what the session's caller waits for before it closes the store
    h.stream.destroy();
    await h.served;
    assert.equal(h.stored.length, 1, 'the message being stored was stored before the session was over');
  });

  test('a request being stored is not cut off by the frame deadline of a frame begun before it was whole', async () => {
    const h = harness({ frameMs: 100, receiveMs: 250 });
    const frame = encodeNbssPacket({ type: 'message', payload: encodeSmbRequest({ command: SMB_COMMAND.sendMessage, originator: oem('bob'), destination: oem('alice'), text: oem('slow disk, split frame') }, { mid: 1, pid: 42 }) });
    const after = encodeNbssPacket({ type: 'keepalive' });
    h.toServer.write(frame.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 50));
    // the rest of it, and the first bytes of the next frame: the deadline runs for that one from now
    h.toServer.write(Buffer.concat([frame.subarray(10), after.subarray(0, 2)]));
    const reply = await h.next();
    assert.equal(reply.type, 'message');
    assert.deepEqual(decodeSmbResponse((reply as { payload: Uint8Array }).payload, SMB_COMMAND.sendMessage).status, { kind: 'success' });
    await h.served; // the unfinished frame behind it is cut off at its own deadline
  });

  test('keepalives do not keep an idle session open: it closes the idle time after its last request', async () => {
    const h = harness({ idleMs: 150 });
    assert.deepEqual(await h.sessionRequest('alice'), { type: 'positiveResponse' });
    let ended = false;
    void h.served.then(() => (ended = true));
    const started = Date.now();
    // a keepalive every 30 ms, for up to a second: before, each one restarted the idle timer
    for (let i = 0; i < 33 && !ended; i++) {
      h.toServer.write(encodeNbssPacket({ type: 'keepalive' }));
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.ok(ended, 'the session was closed while keepalives kept coming');
    assert.ok(Date.now() - started < 600, `closed after ${Date.now() - started} ms`);
  });

  test('back-to-back whole frames never trip the frame deadline', async () => {
    const h = harness({ frameMs: 100 });
    assert.deepEqual(await h.sessionRequest('alice'), { type: 'positiveResponse' });
    for (let i = 0; i < 15; i++) {
      const reply = await h.smb({ command: SMB_COMMAND.sendMessage, originator: oem('BOB'), destination: oem('ALICE'), text: oem(`m${i}`) });
      assert.equal(reply.status.kind, 'success');
      await new Promise((r) => setTimeout(r, 15));
    }
    assert.equal(h.stored.length, 15);
    h.end();
    await h.served;
  });
});
