/**
 * Wireshark's dissectors as an independent judge of our encoder (offline: text2pcap writes the
 * packets into a capture file, nothing is sent). Every packet netsend's codecs produce must
 * dissect with no malformed field or error-level expert note. Wireshark 4.0 flags every
 * SEND_TEXT_MB (0xD7) request as malformed (it reads the group id as the byte count), so those
 * are excluded from that check and verified by the fixture tests instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NEGATIVE_RESPONSE, encodeNbssPacket, type NbssPacket } from '../nbss/index.js';
import { DOS_ERROR, SMB_COMMAND, decodeSmbRequest, encodeSmbRequest, encodeSmbResponse, type SmbRequestBody, type SmbResponseBody } from './index.js';

const missing = ['tshark', 'text2pcap'].find((tool) => spawnSync('which', [tool]).status !== 0);
const oem = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Client → server packets and server → client replies, in order. */
function exchange(): Array<{ reply: boolean; bytes: Uint8Array }> {
  const out: Array<{ reply: boolean; bytes: Uint8Array }> = [];
  const nbss = (reply: boolean, packet: NbssPacket) => out.push({ reply, bytes: encodeNbssPacket(packet) });
  let mid = 0;
  const turn = (body: SmbRequestBody, answer: SmbResponseBody) => {
    const payload = encodeSmbRequest(body, { mid: mid++, pid: 4242 });
    nbss(false, { type: 'message', payload });
    nbss(true, { type: 'message', payload: encodeSmbResponse(decodeSmbRequest(payload), answer) });
  };
  nbss(false, { type: 'sessionRequest', called: { name: 'ALICE', suffix: 0x03, scope: '' }, calling: { name: 'NETSEND', suffix: 0x00, scope: '' } });
  nbss(true, { type: 'positiveResponse' });
  turn({ command: SMB_COMMAND.negotiate, dialects: ['PC NETWORK PROGRAM 1.0', 'NT LM 0.12'] }, { kind: 'negotiate', dialectIndex: 1, systemTime: new Date(Date.UTC(2024, 0, 2)) });
  turn({ command: SMB_COMMAND.sendMessage, originator: oem('BOB'), destination: oem('ALICE'), text: oem('single block\r\n') }, { kind: 'ok' });
  turn({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('BOB'), destination: oem('ALICE') }, { kind: 'groupId', groupId: 7 });
  turn({ command: SMB_COMMAND.sendTextMbMessage, groupId: 7, text: oem('a text block') }, { kind: 'ok' });
  turn({ command: SMB_COMMAND.sendEndMbMessage, groupId: 7 }, { kind: 'ok' });
  turn({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('BOB'), destination: oem('ALICE') }, { kind: 'ok' }); // smbd's wc 0 form
  for (const error of Object.values(DOS_ERROR)) {
    turn({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('BOB'), destination: oem('NOBODY') }, { kind: 'error', error });
  }
  turn({ command: SMB_COMMAND.negotiate, dialects: ['LANMAN1.0'] }, { kind: 'negotiate', dialectIndex: 0xffff });
  for (const error of Object.values(NEGATIVE_RESPONSE)) nbss(true, { type: 'negativeResponse', error });
  nbss(true, { type: 'retargetResponse', ip: '192.0.2.9', port: 139 });
  nbss(false, { type: 'keepalive' });
  return out;
}

/** "I"/"O"-marked hex dump lines for `text2pcap -D`, one packet per offset-0 block. */
function hexdump(packets: Array<{ reply: boolean; bytes: Uint8Array }>): string {
  return packets
    .map(({ reply, bytes }) => {
      const lines: string[] = [];
      for (let at = 0; at < bytes.length; at += 16) {
        const row = [...bytes.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
        lines.push(`${at === 0 ? (reply ? 'O ' : 'I ') : ''}${at.toString(16).padStart(6, '0')} ${row}`);
      }
      return lines.join('\n');
    })
    .join('\n');
}

function dissect(packets: Array<{ reply: boolean; bytes: Uint8Array }>, filter: string, fields: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'ns-tshark-'));
  try {
    writeFileSync(join(dir, 'in.txt'), `${hexdump(packets)}\n`);
    const t2p = spawnSync('text2pcap', ['-q', '-D', '-4', '192.0.2.2,192.0.2.1', '-T', '40000,139', join(dir, 'in.txt'), join(dir, 'out.pcap')], { encoding: 'utf8' });
    assert.equal(t2p.status, 0, t2p.stderr);
    const args = ['-o', 'tcp.desegment_tcp_streams:FALSE', '-r', join(dir, 'out.pcap'), '-Y', filter];
    if (fields.length > 0) args.push('-T', 'fields', ...fields.flatMap((f) => ['-e', f]));
    const result = spawnSync('tshark', args, { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BAD = '(_ws.malformed || _ws.unreassembled || _ws.expert.severity == error) && !(smb.cmd == 0xd7 && smb.flags.response == 0)';

test('tshark finds no malformed field in any packet our encoders produce', { skip: missing ? `${missing} is not installed` : false }, () => {
  const packets = exchange();
  assert.equal(dissect(packets, BAD), '');
  assert.equal(dissect(packets, 'nbss').trim().split('\n').length, packets.length, 'tshark sees every packet as NetBIOS session service');
  const fields = dissect(packets, 'smb.cmd == 0xd0 || smb.cmd == 0xd5', ['nbss.called_name', 'smb.originator_name', 'smb.destination_name', 'smb.message']);
  assert.match(fields, /BOB\tALICE\tsingle block/);
  assert.match(dissect(packets, 'nbss.type == 0x81', ['nbss.called_name', 'nbss.calling_name']), /ALICE<03>\tNETSEND<00>/);
  assert.match(dissect(packets, 'nbss.type == 0x83', ['nbss.error_code']), /0x82/);
  assert.match(dissect(packets, 'smb.cmd == 0x72 && smb.flags.response == 1', ['smb.dialect.index', 'smb.wct']), /^1\t17$/m);
  const errors = dissect(packets, 'smb.error_class > 0', ['smb.error_class', 'smb.error_code']).trim().split('\n');
  assert.deepEqual(errors, Object.values(DOS_ERROR).map((e) => `0x${e.errorClass.toString(16).padStart(2, '0')}\t0x${e.code.toString(16).padStart(4, '0')}`));
  assert.match(dissect(packets, 'nbss.type == 0x84', ['nbss.retarget_ip_address', 'nbss.retarget_port']), /192\.0\.2\.9\t139/);
});

test('tshark finds no malformed field in the captured fixtures either', { skip: missing ? `${missing} is not installed` : false }, () => {
  const fixtures = JSON.parse(readFileSync(new URL('../../../../test/fixtures/smb/packets.json', import.meta.url), 'utf8')) as Array<{ hex: string; direction: string }>;
  const packets = fixtures.map((f) => ({ reply: f.direction === 'server', bytes: new Uint8Array(Buffer.from(f.hex, 'hex')) }));
  assert.equal(dissect(packets, BAD), '');
});
