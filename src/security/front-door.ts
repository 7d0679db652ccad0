/**
 * netsend's one front door: every way in passes the same gates, each in a file of its own.
 *   message-gate.ts     rate limits per sender, per recipient alias and for all network input
 *   shared-budget.ts    the budget all senders share, fair among them (the message gate's)
 *   connection-gate.ts  connections per listener and per source address
 *   alias-gate.ts       who may add which alias, and how many
 * Importers keep this path; the gates' own files may be imported directly too.
 */
export { ALIAS_FACTOR, MessageGate, type MessageLimits } from './message-gate.js';
export { ConnectionGate, type ConnectionLimits } from './connection-gate.js';
export { ALIASES_PER_USER, AliasGate, type AliasCaller, type AliasGateOptions } from './alias-gate.js';
