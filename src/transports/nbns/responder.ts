/**
 * The answers this node gives (RFC 1001 §15.1, RFC 1002 §4.2): name queries and node status
 * requests for the names it holds, and ACT_ERR to anyone registering one of its unique names.
 * Answers per source address are limited (ANSWER_LIMIT).
 */
import { NBNS_OPCODE, NBNS_RCODE, RR_CLASS_IN, RR_TYPE, type NbnsPacket, type NbnsQuestion, type NbnsRecord } from '../../protocols/nbns/index.js';
import { RateLimiter } from '../../policy/rate-limit.js';
import { SUFFIX } from '../../protocols/netbios-name/index.js';
import type { HeldNames } from './held-names.js';
import { ANSWER_LIMIT, NAME_TTL_SECONDS } from './limits.js';

/** NAME_FLAGS of a node status answer (RFC 1002 §4.2.18): ACT, plus G for group names. */
const NODE_STATUS_ACTIVE = 0x0400;
const NODE_STATUS_GROUP = 0x8000;
/** A proxied name may move to another site, or to this LAN: its answers are cached briefly. */
const PROXIED_TTL_SECONDS = 60;
/**
 * A proxied answer to a broadcast waits this long: a holder of the name on this very segment
 * answers at once, and the asker takes the first answer, so the gateway answers only for names
 * nobody here holds (as a WINS proxy answered only what the LAN did not), not racing their owner.
 */
export const PROXIED_BROADCAST_DELAY_MS = 250;

export interface NameResponderOptions {
  held: HeldNames;
  /**
   * Messenger names (<03>) held by other hosts this node answers for with its own address, as a
   * WINS proxy did: the hub gateway's names of the realm (upper-cased, decoded). Never defended.
   */
  proxied?: (name: string) => boolean;
  /** Answers per source address: a burst, then a rate (default ANSWER_LIMIT). */
  answerLimit?: { burst: number; ratePerSecond: number };
  log: (line: string) => void;
}

export class NameResponder {
  readonly #options: NameResponderOptions;
  readonly #answers: RateLimiter;

  constructor(options: NameResponderOptions) {
    this.#options = options;
    this.#answers = new RateLimiter(options.answerLimit ?? ANSWER_LIMIT);
  }

  /**
   * The answer to `request` from `source` that came in on the interface at `interfaceAddress`
   * (its address is the one given out), or undefined for silence: nothing to say, or `source`
   * has had its answers for now.
   */
  answer(request: NbnsPacket, source: string, interfaceAddress: string): Answer | undefined {
    const answer = this.#answer(request, interfaceAddress);
    if (answer !== undefined && !this.#answers.take(source)) return undefined;
    return answer;
  }

  #answer(request: NbnsPacket, interfaceAddress: string): Answer | undefined {
    const { held } = this.#options;
    const [question] = request.questions;
    switch (request.opcode) {
      case NBNS_OPCODE.query: {
        if (question === undefined) return undefined;
        if (question.type === RR_TYPE.NBSTAT) return this.#nodeStatus(request, question);
        if (question.type !== RR_TYPE.NB) return undefined;
        const owned = held.find(question.name);
        if (owned !== undefined) {
          return reply(request, NBNS_RCODE.noError, {
            name: question.name, type: RR_TYPE.NB, class: RR_CLASS_IN, ttl: NAME_TTL_SECONDS,
            data: { kind: 'nb', entries: [{ group: owned.group, nodeType: 'B', address: interfaceAddress }] },
          });
        }
        if (question.name.suffix === SUFFIX.messenger && held.inScope(question.name) && this.#options.proxied?.(held.nameOf(question.name))) {
          // the gateway: messages for the name come here and go on through the hub
          const answer = reply(request, NBNS_RCODE.noError, {
            name: question.name, type: RR_TYPE.NB, class: RR_CLASS_IN, ttl: PROXIED_TTL_SECONDS,
            data: { kind: 'nb', entries: [{ group: false, nodeType: 'B', address: interfaceAddress }] },
          });
          return { ...answer, delayMs: request.flags.broadcast ? PROXIED_BROADCAST_DELAY_MS : 0 };
        }
        // RFC 1002 §4.2.14: a node asked directly for a name it lacks says so; broadcasts get silence.
        if (request.flags.broadcast) return undefined;
        return reply(request, NBNS_RCODE.nameError, { name: question.name, type: RR_TYPE.NULL, class: RR_CLASS_IN, ttl: 0, data: { kind: 'raw', bytes: new Uint8Array(0) } });
      }
      case NBNS_OPCODE.registration:
      case NBNS_OPCODE.multihomedRegistration: {
        // RFC 1002 §4.2.6 / RFC 1001 §15.2.2.2: the owner of a unique name defends it with ACT_ERR.
        const [record] = request.additionals;
        const owned = question === undefined ? undefined : held.find(question.name);
        if (question === undefined || record === undefined || owned === undefined || owned.group) return undefined;
        if (record.data.kind === 'nb' && record.data.entries.some((e) => e.group)) return undefined;
        this.#options.log(`name service: defended ${held.shown(owned)} against a registration`);
        return reply(request, NBNS_RCODE.active, { ...record, ttl: 0 });
      }
      default:
        return undefined;
    }
  }

  #nodeStatus(request: NbnsPacket, question: NbnsQuestion): Answer | undefined {
    const { held } = this.#options;
    const wildcard = question.name.name.startsWith('*');
    if (wildcard ? !held.inScope(question.name) : held.find(question.name) === undefined) return undefined;
    const names = held.held().map((n) => ({ name: n.name, suffix: n.suffix, flags: NODE_STATUS_ACTIVE | (n.group ? NODE_STATUS_GROUP : 0) }));
    // STATISTICS (RFC 1002 §4.2.18): 46 bytes, starting with the unit id; netsend keeps no counters.
    return reply(request, NBNS_RCODE.noError, {
      name: question.name, type: RR_TYPE.NBSTAT, class: RR_CLASS_IN, ttl: 0,
      data: { kind: 'nodeStatus', names, statistics: new Uint8Array(46) },
    });
  }
}

/** A reply to send to the asker, and how long to hold it first (0: at once). */
export interface Answer {
  readonly packet: NbnsPacket;
  readonly delayMs: number;
}

function reply(request: NbnsPacket, rcode: number, answer: NbnsRecord): Answer {
  const packet: NbnsPacket = {
    id: request.id,
    response: true,
    opcode: request.opcode,
    flags: { authoritative: true, truncated: false, recursionDesired: request.flags.recursionDesired, recursionAvailable: false, broadcast: false },
    rcode,
    questions: [],
    answers: [answer],
    authorities: [],
    additionals: [],
  };
  return { packet, delayMs: 0 };
}
