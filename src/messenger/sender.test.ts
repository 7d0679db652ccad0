import assert from 'node:assert/strict';
import { test } from 'node:test';
import { senderColumns, senderFromColumns, type SenderColumns } from '../store/messages.js';
import { messageToJson, type StoredMessage, type Via } from './message.js';
import { peerOf, senderOf } from './sender.js';

/** Rows as the store holds them: the packed forms the JSON has always shown. */
const ROWS: Array<[Via, SenderColumns]> = [
  ['local', { sender_uid: 1000, sender_address: null, sender_user: 'bob', sender_host: null }],
  ['local', { sender_uid: null, sender_address: null, sender_user: null, sender_host: null }],
  ['local', { sender_uid: null, sender_address: '10.0.0.5:51234', sender_user: 'ops', sender_host: null }],
  ['local', { sender_uid: null, sender_address: '127.0.0.1', sender_user: 'ops', sender_host: null }],
  ['smb', { sender_uid: null, sender_address: 'fd00::5:40000', sender_user: null, sender_host: null }],
  ['mailslot', { sender_uid: 7, sender_address: null, sender_user: null, sender_host: null }],
  ['netsend', { sender_uid: null, sender_address: '192.0.2.1:4139', sender_user: 'bob', sender_host: 'HOSTB SHA256:abc+/=' }],
  ['netsend', { sender_uid: null, sender_address: 'fe80::1%eth0:4139', sender_user: null, sender_host: 'host b.example SHA256:x' }],
  ['netsend', { sender_uid: null, sender_address: 'unknown', sender_user: '', sender_host: 'HOSTB' }],
];

const stored = (via: Via, columns: SenderColumns): StoredMessage => ({
  id: 1, from: 'BOB', to: 'ALICE', text: 'hi', via, sender: senderFromColumns(columns), receivedAt: new Date(0),
});

test('the store boundary: columns read into a sender are written back as they were', () => {
  for (const [, columns] of ROWS) assert.deepEqual(senderColumns(senderFromColumns(columns)), columns, JSON.stringify(columns));
});

test('the JSON boundary: senderUser and senderHost are the stored text again, left out when empty', () => {
  for (const [via, columns] of ROWS) {
    const json = messageToJson(stored(via, columns));
    assert.equal(json.senderUser, columns.sender_user || undefined, `${via} ${JSON.stringify(columns)}`);
    assert.equal(json.senderHost, columns.sender_host || undefined, `${via} ${JSON.stringify(columns)}`);
    assert.ok(!('senderAddress' in json) && !('senderUid' in json) && !('sender' in json), 'no uid or address in the JSON');
  }
});

test('the JSON boundary: a netsend message prints byte for byte as before', () => {
  const message = stored('netsend', { sender_uid: null, sender_address: '192.0.2.1:4139', sender_user: 'bob', sender_host: 'HOSTB SHA256:abc' });
  assert.equal(
    JSON.stringify(messageToJson(message)),
    '{"id":1,"from":"BOB","to":"ALICE","text":"hi","receivedAt":"1970-01-01T00:00:00.000Z","via":"netsend","verified":true,"priority":"normal",' +
      '"senderUser":"bob","senderHost":"HOSTB SHA256:abc","provenance":"verified: sent by bob on HOSTB, host key SHA256:abc"}',
  );
});

test('a sender is built from its source through the address parser: port apart, IPv4-mapped as IPv4, names kept as written', () => {
  assert.deepEqual(senderOf({ uid: 5, ...peerOf('::ffff:10.0.0.5:40000') }), { uid: 5, address: '10.0.0.5', port: 40000, user: null, host: null });
  assert.deepEqual(peerOf('[fd00::5]:4139'), { address: 'fd00::5', port: 4139 });
  assert.deepEqual(peerOf(null), { address: null, port: null });
  assert.deepEqual(peerOf('unknown'), { address: 'unknown', port: null }, 'a web caller with no address is still a remote one');
});
