/**
 * Fuzzing: mutated real packets (the fixtures) and random bytes, first through every decoder
 * in-process, then at a live daemon's sockets on loopback. Bounded by time and count; seeded, so
 * a failure can be replayed with the seed it prints.
 */
import { readFileSync } from 'node:fs';
import { DecodeError } from '../../src/protocols/bytes/index.js';
import { decodeDatagram, decodeMailslotWrite, decodeMessengerPayload } from '../../src/protocols/mailslot/index.js';
import { decodeNbnsPacket } from '../../src/protocols/nbns/index.js';
import { NbssFramer, decodeNbssPacket } from '../../src/protocols/nbss/index.js';
import { decodeNetbiosName } from '../../src/protocols/netbios-name/index.js';
import { SMB_COMMAND, decodeSmbRequest, decodeSmbResponse } from '../../src/protocols/smb1/index.js';

/** A small, fast, seedable generator (mulberry32): the same seed replays the same inputs. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fixtureHex(path: string): string[] {
  return (JSON.parse(readFileSync(new URL(`../../../test/fixtures/${path}`, import.meta.url), 'utf8')) as Array<{ hex: string }>).map((f) => f.hex);
}

/** The real packets every mutation starts from, by protocol. */
export function seeds(): { nbss: Uint8Array[]; nbns: Uint8Array[]; datagram: Uint8Array[] } {
  const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
  return {
    nbss: fixtureHex('smb/packets.json').map(bytes),
    nbns: fixtureHex('nbns/packets.json').map(bytes),
    datagram: fixtureHex('mailslot/samba-ndr.json').map(bytes),
  };
}

/** One mutant of a seed: flipped bits, overwritten bytes, a cut, an extension, or a splice. */
export function mutate(seed: Uint8Array, rnd: () => number, others: readonly Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  let out = Uint8Array.from(seed);
  for (let rounds = 1 + pick(4); rounds > 0; rounds--) {
    switch (pick(6)) {
      case 0:
        if (out.length > 0) out[pick(out.length)]! ^= 1 << pick(8);
        break;
      case 1:
        if (out.length > 0) out[pick(out.length)] = [0x00, 0xff, 0x7f, 0x80, 0xc0, 0x3f][pick(6)] ?? 0;
        break;
      case 2:
        out = out.subarray(0, pick(out.length + 1));
        break;
      case 3:
        out = Uint8Array.from([...out, ...Array.from({ length: 1 + pick(64) }, () => pick(256))]);
        break;
      case 4: {
        const other = others[pick(others.length)] ?? out;
        out = Uint8Array.from([...out.subarray(0, pick(out.length + 1)), ...other.subarray(pick(other.length + 1))]);
        break;
      }
      default:
        out = Uint8Array.from({ length: pick(200) }, () => pick(256));
    }
  }
  return out;
}

/** Runs `decode` on hostile input: a value or a DecodeError is fine; anything else is a finding. */
function expectDecodeOrError(decode: () => unknown, what: string, input: Uint8Array): void {
  try {
    decode();
  } catch (error) {
    if (error instanceof DecodeError) return;
    throw new Error(`${what} threw ${String(error)} on ${Buffer.from(input).toString('hex')}`, { cause: error });
  }
}

export interface FuzzReport {
  inputs: number;
  seconds: number;
  heapGrowthMiB: number;
}

/** Every decoder against mutants of every seed, until `seconds` or `maxInputs`. */
export function fuzzDecoders(options: { seconds: number; maxInputs: number; seed: number }): FuzzReport {
  const rnd = random(options.seed);
  const all = seeds();
  const everything = [...all.nbss, ...all.nbns, ...all.datagram];
  const deadline = performance.now() + options.seconds * 1000;
  const heapBefore = process.memoryUsage().heapUsed;
  let inputs = 0;
  while (performance.now() < deadline && inputs < options.maxInputs) {
    const seed = everything[Math.floor(rnd() * everything.length)] as Uint8Array;
    const input = mutate(seed, rnd, everything);
    inputs++;
    expectDecodeOrError(() => decodeNbssPacket(input), 'decodeNbssPacket', input);
    expectDecodeOrError(() => new NbssFramer(4096).push(input), 'NbssFramer', input);
    expectDecodeOrError(() => decodeSmbRequest(input.subarray(4)), 'decodeSmbRequest', input);
    expectDecodeOrError(() => decodeSmbResponse(input.subarray(4), SMB_COMMAND.sendStartMbMessage), 'decodeSmbResponse', input);
    expectDecodeOrError(() => decodeNbnsPacket(input), 'decodeNbnsPacket', input);
    expectDecodeOrError(() => decodeNetbiosName(input, 0, { compression: true }), 'decodeNetbiosName', input);
    expectDecodeOrError(() => {
      const datagram = decodeDatagram(input);
      if ('userData' in datagram) decodeMessengerPayload(decodeMailslotWrite(datagram.userData).data);
    }, 'decodeDatagram', input);
  }
  return { inputs, seconds: options.seconds, heapGrowthMiB: (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20 };
}
