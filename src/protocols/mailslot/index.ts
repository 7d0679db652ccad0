export { DATAGRAM_TYPE, DATAGRAM_PORT, MAX_DATAGRAM, decodeDatagram, encodeDatagram } from './datagram.js';
export type { NetbiosDatagram, DatagramHeader } from './datagram.js';
export {
  SMB_COM_TRANSACTION, MAILSLOT_WRITE, MAILSLOT_CLASS_UNRELIABLE, MESSENGER_MAILSLOT, MAX_MAILSLOT_NAME, MAX_PAYLOAD_NAME,
  encodeMailslotWrite, decodeMailslotWrite, encodeMessengerPayload, decodeMessengerPayload,
} from './mailslot.js';
export type { MailslotWrite, MessengerPayload } from './mailslot.js';
