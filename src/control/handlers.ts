/**
 * Runs one request from the control socket, the secure channel or the web: finds its operation
 * in the list (operations/index.ts), checks the caller against its access rule, runs it, and
 * writes remote calls (and every refusal) to the audit log with their outcome.
 */
import { NetApiError } from '../messenger/errors.js';
import type { Caller } from '../messenger/messenger.js';
import { NERR } from '../messenger/status.js';
import { describePrincipal, isRemote, type Principal } from '../security/access.js';
import type { Call, OperationSpec } from './operation.js';
import { OPERATIONS, isOperation } from './operations/index.js';
import type { ControlServices } from './services.js';

export type { AliasPolicies, ControlServices, DaemonInfo, ListenerState, ReceiptServices } from './services.js';
export { MAX_INBOX_PAGE } from './operation.js';

export async function handleRequest(services: ControlServices, request: Record<string, unknown>, principal: Principal): Promise<unknown> {
  const { op } = request;
  if (!isOperation(op)) throw new NetApiError('ERROR_NOT_SUPPORTED', `Unknown control operation ${JSON.stringify(op)}.`);
  // one spec type for the dispatcher: each operation's own types matter to its callers, not here
  const spec: OperationSpec<Record<string, unknown>, unknown> = OPERATIONS[op];
  const remote = isRemote(principal);
  try {
    services.access.check(principal, spec.action);
    if (spec.localOnly !== undefined && remote) throw new NetApiError('ERROR_ACCESS_DENIED', spec.localOnly);
    const result = await spec.run(callOf(services, principal), request);
    if (remote && spec.action !== 'names.read') audit(services, principal, op, request, NERR.NERR_Success);
    return result;
  } catch (error) {
    if (remote || (error instanceof NetApiError && error.statusName === 'ERROR_ACCESS_DENIED')) {
      audit(services, principal, op, request, error instanceof NetApiError ? error.status : NERR.NERR_InternalError);
    }
    throw error;
  }
}

function callOf(services: ControlServices, principal: Principal): Call {
  const caller: Caller = {
    uid: principal.uid,
    name: principal.kind === 'host' ? null : principal.name || null,
    source: principal.source,
    over: principal.over ?? (principal.kind === 'local' ? 'local' : 'secure'),
    localAdministrator: principal.kind === 'local' && services.access.isAdmin(principal),
  };
  return { services, principal, caller };
}

function audit(services: ControlServices, principal: Principal, op: string, request: Record<string, unknown>, status: number): void {
  const target = ['to', 'name', 'user'].map((key) => request[key]).find((v) => typeof v === 'string');
  services.audit.record({
    event: status === NERR.ERROR_ACCESS_DENIED ? 'refused-call' : 'remote-call',
    principal: describePrincipal(principal),
    source: principal.source,
    detail: target === undefined ? op : `${op} ${String(target)}`,
    status,
  });
}
