/** Where another node's name is: asked of the WINS server (P-node) or broadcast (B-node). */
import { NBNS_OPCODE, NBNS_RCODE } from '../../protocols/nbns/index.js';
import type { UdpEndpoints } from '../udp.js';
import type { NameRequests } from './requests.js';

export interface NameQueriesOptions {
  udp: UdpEndpoints;
  winsServer?: string | undefined;
  requests: NameRequests;
}

export class NameQueries {
  readonly #options: NameQueriesOptions;

  constructor(options: NameQueriesOptions) {
    this.#options = options;
  }

  /** Asks the WINS server where `name<suffix>` is (RFC 1001 §15.1.3, P-node), or null. */
  async resolveWins(name: string, suffix: number): Promise<string | null> {
    const wins = this.#options.winsServer;
    if (wins === undefined) return null;
    const answer = await this.#options.requests.unicast(wins, NBNS_OPCODE.query, { name, suffix, group: false });
    const data = answer?.rcode === NBNS_RCODE.noError ? answer.answers[0]?.data : undefined;
    return data?.kind === 'nb' && data.entries[0] !== undefined ? data.entries[0].address : null;
  }

  /** Finds the address holding `name<suffix>` by broadcast query (RFC 1001 §15.2.3), or null. */
  async resolve(name: string, suffix: number): Promise<string | null> {
    for (const segment of this.#options.udp.segments) {
      const [found] = await this.#options.requests.broadcast(segment, NBNS_OPCODE.query, { name, suffix, group: false }, (answer) => answer.rcode === NBNS_RCODE.noError, true);
      const entry = found?.answer.answers[0]?.data;
      if (entry?.kind === 'nb' && entry.entries[0] !== undefined) return entry.entries[0].address;
    }
    return null;
  }
}
