/** Every `netsend` command, by the word that names it: one module per command, as aedes keeps one handler per packet. */
import type { Command } from '../shared.js';
import { command as ack } from './ack.js';
import { command as audit } from './audit.js';
import { command as group } from './group.js';
import { command as help } from './help.js';
import { command as host } from './host.js';
import { command as hub } from './hub.js';
import { command as inbox } from './inbox.js';
import { command as name } from './name.js';
import { command as receipt } from './receipt.js';
import { command as send } from './send.js';
import { command as serve } from './serve.js';
import { command as status } from './status.js';
import { command as user } from './user.js';
import { command as version } from './version.js';
import { command as web } from './web.js';

const ALL: readonly Command[] = [serve, send, name, inbox, ack, receipt, user, group, audit, host, web, status, hub, help, version];

/** A Map, not an object: a word such as "constructor" must not find Object.prototype's. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(ALL.flatMap((c) => [c.name, ...(c.aliases ?? [])].map((word) => [word, c] as const)));
