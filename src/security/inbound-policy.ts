import { BlockList, isIP } from 'node:net';
import { ipAddress } from '../messenger/address.js';
import { NetApiError } from '../messenger/errors.js';
import { isVerified, type IncomingMessage } from '../messenger/message.js';
import { LEGACY_INPUT, type LegacyInput } from '../config/choices.js';

// What the legacy wire may deliver is the `legacy input` setting's values; re-exported for the daemon until it takes them from config.
export type { LegacyInput };

/**
 * A recipient's rules for one alias. Rules read `user:NAME`, `group:NAME`, `host:NAME` (a
 * verified netsend host), `subnet:CIDR` or `address:IP`; deny wins over allow, and a non-empty
 * allow list admits only what it names.
 */
export interface AliasPolicy {
  readonly legacy?: LegacyInput;
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

export const EMPTY_POLICY: AliasPolicy = Object.freeze({ allow: [], deny: [] });

const RULE = /^(user|group|host|subnet|address):(.+)$/i;
/** Rules per list: a policy is read on every message. */
export const MAX_RULES = 256;

/** Why a rule is malformed, or null. */
export function ruleProblem(rule: unknown): string | null {
  if (typeof rule !== 'string' || rule.length > 128) return 'A rule must be a string of at most 128 characters.';
  const match = RULE.exec(rule);
  if (match === null) return `"${rule}" is not a rule (user:NAME, group:NAME, host:NAME, subnet:CIDR, address:IP).`;
  const [, kind, value] = match as unknown as [string, string, string];
  if (kind.toLowerCase() === 'subnet' && parseSubnet(value) === null) return `"${value}" is not a subnet (10.0.0.0/8, fd00::/8).`;
  if (kind.toLowerCase() === 'address' && isIP(value) === 0) return `"${value}" is not an IP address.`;
  return null;
}

/** Validates a policy from the control socket. @throws NetApiError ERROR_INVALID_PARAMETER */
export function parsePolicy(value: unknown): AliasPolicy {
  if (typeof value !== 'object' || value === null) throw new NetApiError('ERROR_INVALID_PARAMETER', 'The policy must be an object.');
  const { legacy, allow = [], deny = [] } = value as Record<string, unknown>;
  if (legacy !== undefined && !LEGACY_INPUT.includes(legacy as LegacyInput)) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `legacy must be one of ${LEGACY_INPUT.join(', ')}.`);
  }
  const rules = (list: unknown, what: string): string[] => {
    if (!Array.isArray(list) || list.length > MAX_RULES) throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a list of at most ${MAX_RULES} rules.`);
    for (const rule of list) {
      const problem = ruleProblem(rule);
      if (problem !== null) throw new NetApiError('ERROR_INVALID_PARAMETER', problem);
    }
    return [...new Set(list as string[])];
  };
  return { ...(legacy === undefined ? {} : { legacy: legacy as LegacyInput }), allow: rules(allow, 'allow'), deny: rules(deny, 'deny') };
}

function parseSubnet(spec: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address, bits, ...rest] = spec.split('/');
  if (address === undefined || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits)) return null;
  const family = isIP(address);
  const prefix = Number(bits);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return null;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** Answers a SubnetSet keeps. */
const ANSWERS_KEPT = 1024;

/** A set of subnets, matching IPv4 addresses whether written plainly or IPv4-mapped in IPv6. */
export class SubnetSet {
  readonly #list = new BlockList();
  readonly specs: readonly string[];
  /**
   * Answers given, by address: BlockList parses the address again at every check, and a session
   * asks once a message. Bounded: a sender with many addresses only evicts older answers.
   */
  readonly #answers = new Map<string, boolean>();

  constructor(specs: readonly string[]) {
    this.specs = specs;
    for (const spec of specs) {
      const subnet = parseSubnet(spec);
      if (subnet === null) throw new Error(`"${spec}" is not a subnet`);
      this.#list.addSubnet(subnet.address, subnet.prefix, subnet.family);
    }
  }

  has(address: string): boolean {
    const known = this.#answers.get(address);
    if (known !== undefined) return known;
    const plain = ipAddress(address);
    const answer = plain !== null && this.#list.check(plain, isIP(plain) === 4 ? 'ipv4' : 'ipv6');
    if (this.#answers.size >= ANSWERS_KEPT) this.#answers.delete(this.#answers.keys().next().value as string);
    this.#answers.set(address, answer);
    return answer;
  }
}

/** The subnet of an interface address: its address and netmask as CIDR. */
export function subnetOf(address: string, netmask: string): string {
  if (isIP(address) === 4) {
    const bits = netmask.split('.').reduce((n, part) => n + (Number(part) >>> 0).toString(2).replace(/0/g, '').length, 0);
    return `${address}/${bits}`;
  }
  const bits = netmask
    .split(':')
    .filter((p) => p !== '')
    .reduce((n, part) => n + parseInt(part, 16).toString(2).replace(/0/g, '').length, 0);
  return `${address}/${bits}`;
}

/** What the daemon knows of a sender when a message arrives. */
export interface SenderFacts {
  readonly address: string | null;
  readonly user: string | null;
  /** The sender's groups in this host's accounts (a local caller's, or a same-named account). */
  readonly groups: readonly string[];
  readonly host: string | null;
}

export interface InboundPolicyOptions {
  legacy: LegacyInput;
  /** The subnets `legacy input = subnets` admits. */
  legacySubnets: SubnetSet;
  policies?: ReadonlyMap<string, AliasPolicy>;
}

/**
 * The recipient's side of "who may message me": the host's legacy-input setting, each alias's
 * override of it, and each alias's allow and deny lists.
 */
export class InboundPolicy {
  readonly #legacy: LegacyInput;
  #legacySubnets: SubnetSet;
  readonly #policies: Map<string, AliasPolicy>;

  constructor(options: InboundPolicyOptions) {
    this.#legacy = options.legacy;
    this.#legacySubnets = options.legacySubnets;
    this.#policies = new Map(options.policies ?? []);
  }

  /** The subnets `legacy input = subnets` admits, again (the host's addresses changed). */
  setLegacySubnets(subnets: SubnetSet): void {
    this.#legacySubnets = subnets;
  }

  policy(alias: string): AliasPolicy {
    return this.#policies.get(alias) ?? EMPTY_POLICY;
  }

  set(alias: string, policy: AliasPolicy | null): void {
    if (policy === null || (policy.legacy === undefined && policy.allow.length === 0 && policy.deny.length === 0)) this.#policies.delete(alias);
    else this.#policies.set(alias, policy);
  }

  /** Whether the alias's rules name groups: only then are a sender's groups worth looking up. */
  usesGroups(alias: string): boolean {
    const policy = this.policy(alias);
    return [...policy.allow, ...policy.deny].some((rule) => /^group:/i.test(rule));
  }

  /** Why `alias` does not take this message, or null when it does. */
  problem(message: Pick<IncomingMessage, 'via'>, alias: string, sender: SenderFacts): string | null {
    const policy = this.policy(alias);
    if (!isVerified(message.via)) {
      const legacy = policy.legacy ?? this.#legacy;
      const address = sender.address ?? '';
      if (legacy === 'none') return `${alias} takes no unauthenticated (${message.via}) messages.`;
      if (legacy === 'subnets' && !this.#legacySubnets.has(address)) {
        return `${alias} takes unauthenticated (${message.via}) messages only from ${this.#legacySubnets.specs.join(', ')}.`;
      }
    }
    const denied = policy.deny.find((rule) => matches(rule, sender));
    if (denied !== undefined) return `${alias} refuses messages matching ${denied}.`;
    if (policy.allow.length > 0 && !policy.allow.some((rule) => matches(rule, sender))) {
      return `${alias} takes messages only from ${policy.allow.join(', ')}.`;
    }
    return null;
  }
}

function matches(rule: string, sender: SenderFacts): boolean {
  const match = RULE.exec(rule);
  if (match === null) return false;
  const kind = (match[1] as string).toLowerCase();
  const value = match[2] as string;
  const same = (a: string | null) => a !== null && a.toLowerCase() === value.toLowerCase();
  switch (kind) {
    case 'user':
      return same(sender.user);
    case 'group':
      return sender.groups.some(same);
    case 'host':
      return same(sender.host);
    case 'address':
      return sender.address !== null && new SubnetSet([`${value}/${isIP(value) === 4 ? 32 : 128}`]).has(sender.address);
    case 'subnet':
      return sender.address !== null && new SubnetSet([value]).has(sender.address);
    default:
      return false;
  }
}
