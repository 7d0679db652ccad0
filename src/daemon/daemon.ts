import { mkdir } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { NameSource } from '../config/choices.js';
import { ConfigError, type Config } from '../config/load.js';
import { dataDirPaths } from '../config/paths.js';

type DataDirPaths = ReturnType<typeof dataDirPaths>;
import { AliasTable } from '../messenger/aliases.js';
import { NetApiError } from '../messenger/errors.js';
import { Messenger } from '../messenger/messenger.js';
import { aliasProblem, oemUpperCase } from '../messenger/names.js';
import { Receipts } from '../messenger/receipts.js';
import { NBSS_PORT } from '../protocols/nbss/index.js';
import { InterfaceWatcher } from '../os/network.js';
import { peerCredentialsAvailable } from '../os/peercred.js';
import { loggedOnUsers } from '../os/utmp.js';
import { NameCache } from '../resolve/cache.js';
import { MessageRouter } from '../resolve/router.js';
import { LmhostsResolver, type NameResolver } from '../resolve/resolver.js';
import { SqliteStore, StoreLockedError } from '../store/sqlite.js';
import { ControlServer } from '../transports/control/server.js';
import { SmbSender } from '../transports/smb/sender.js';
import { LanTransports } from './lan.js';
import { logIpv4Only } from './listeners.js';
import { createHub, withHubBroadcasts, withHubClaims } from './hub.js';
import { hubGateway } from '../hub/gateway.js';
import { SecureChannel } from './secure.js';
import { createSecurity } from './security.js';
import { controlServices } from './services.js';
import { createSurfaces } from './surfaces.js';
import { TeardownStack } from './teardown.js';
import { startWeb } from './web.js';
import type { WebServer } from '../web/server.js';

export interface DaemonIo {
  /** Where received messages are shown (the daemon's terminal). */
  stdout: Writable;
  /** Operational log lines. */
  log: (line: string) => void;
}

/**
 * The Messenger service of one data dir: the composition root, the only place that builds and
 * wires the store, the alias table, the surfaces and the transports. Each part pushes how it
 * stops on one stack; a failed start and `stop()` unwind that same stack.
 */
export class Daemon {
  readonly messenger: Messenger;
  readonly #teardown: TeardownStack;
  readonly #log: (line: string) => void;
  #stopping: Promise<void> | undefined;

  private constructor(messenger: Messenger, teardown: TeardownStack, log: (line: string) => void) {
    this.messenger = messenger;
    this.#teardown = teardown;
    this.#log = log;
  }

  /**
   * @throws NetApiError NERR_MsgAlreadyStarted when another daemon holds the data dir
   */
  static async start(config: Config, io: DaemonIo): Promise<Daemon> {
    const root = process.getuid?.() === 0;
    const paths = dataDirPaths(config.dataDir);
    // Root serves every local user, so they must reach the socket; the database stays private.
    await mkdir(config.dataDir, { recursive: true, mode: root ? 0o755 : 0o700 }).catch((error: NodeJS.ErrnoException) => {
      // a home that cannot be written (a service account's /nonexistent): say what to do, not just the errno
      throw new ConfigError(
        `cannot create the data dir ${config.dataDir} (${error.code ?? error.message}): choose a writable one with --data-dir DIR or NETSEND_DATA_DIR ` +
          '(by default a user\'s daemon keeps its data in $XDG_DATA_HOME/netsend, else ~/.local/share/netsend)',
      );
    });
    process.umask(0o077);
    const store = await openStore(config, paths);
    const teardown = new TeardownStack(io.log);
    teardown.push('store', () => store.close());
    try {
      const messenger = await compose(config, io, { store, paths, root, teardown });
      return new Daemon(messenger, teardown, io.log);
    } catch (error) {
      // the start's error is the one to report; a part that also fails to stop is only logged
      await teardown.unwind().catch((stopError: unknown) => io.log(`stopping after the failed start failed: ${String(stopError)}`));
      throw error;
    }
  }

  /**
   * Drains and closes everything, in the order the parts were pushed (the reverse); safe to call
   * more than once. Every part is stopped even when one fails.
   * @throws the first error a part stopped with (and "Messenger service stopped" is not logged)
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#teardown.unwind();
      this.#log('Messenger service stopped');
    })();
    return this.#stopping;
  }
}

async function openStore(config: Config, paths: DataDirPaths): Promise<SqliteStore> {
  try {
    return await SqliteStore.open(paths.database);
  } catch (error) {
    if (error instanceof StoreLockedError) {
      throw new NetApiError('NERR_MsgAlreadyStarted', `Another netsend daemon is running on ${config.dataDir}.`, { cause: error });
    }
    throw error;
  }
}

/**
 * Builds and starts every part after the store, in dependency order. Each part's teardown is
 * pushed where it sets the stop order: the address watcher, the web inbox, the control socket,
 * SMB and the secure channel, the mailslot, the name service, the hub, the receipt sweeps, the
 * surfaces, the receipts' last writes, then the store.
 */
async function compose(
  config: Config,
  io: DaemonIo,
  { store, paths, root, teardown }: { store: SqliteStore; paths: DataDirPaths; root: boolean; teardown: TeardownStack },
): Promise<Messenger> {
  const { log } = io;
  // The host's addresses, read once here and followed afterwards; every transport gets them from here.
  const interfaces = new InterfaceWatcher({ specs: config.interfaces, log });
  const addresses = interfaces.addresses;
  logIpv4Only(addresses, config, log);
  const security = await createSecurity(config, store, addresses, log);
  const secure = await SecureChannel.create(config, security.caPem, log);
  const hub = await createHub(config, secure?.identity, store, log);
  const lan = new LanTransports(config, log);

  // `name resolve order`: each source asked in turn
  const sources: Record<NameSource, NameResolver> = {
    lmhosts: new LmhostsResolver(paths.lmhosts, NBSS_PORT),
    ...lan.resolvers(),
    hub: hub?.resolver ?? { resolve: async () => null },
  };
  const resolver = new NameCache(config.nameResolveOrder.map((source) => sources[source]), config.nameCacheTimeout);

  // What became of each message, for its sender: the surfaces report to it, it offers waiting
  // messages to them again, and it tells open web pages (and, through the hub, the sender) of each change.
  const receipts = new Receipts({ store: store.events, log });
  // What the surfaces report while they drain reaches the store before it closes.
  teardown.push('receipts', () => receipts.flush());
  const surfaces = createSurfaces(config, io, paths.spool, receipts);
  teardown.push('surfaces', () => surfaces.drainAndClose());
  const push = surfaces.push;
  if (push !== undefined) receipts.subscribe((event, message) => push.stateChanged(message.to, event));
  if (hub !== undefined) receipts.subscribe((event, message) => hub.tellSender(message, event));
  // No more offers of waiting messages once the listeners are closed, before the surfaces drain;
  // the sweeps start last, and stopping them before is harmless.
  teardown.push('receipt sweeps', () => receipts.stop());

  const users = loggedOnUsers().filter((user) => {
    const problem = aliasProblem(user, config.dosCharset);
    if (problem !== null) log(`user "${user}" cannot be a message alias (${problem}); not registered`);
    return problem === null;
  });
  const aliases = new AliasTable({
    registrar: withHubClaims(lan.registrar, hub),
    computerName: config.netbiosName,
    userNames: users,
    addedAliases: store.aliases.addedAliases,
    maxAddedAliases: config.maxAliases,
    store: store.aliases,
    charset: config.dosCharset,
  });
  const messenger = new Messenger({
    aliases,
    store: store.messages,
    sink: surfaces.sink,
    // the host that holds the name; there the secure channel first, SMB for legacy peers
    remote: new MessageRouter({
      resolver,
      port: NBSS_PORT,
      legacy: new SmbSender({ callingName: aliases.computerName, charset: config.dosCharset, scope: config.netbiosScope }),
      ...(secure === undefined ? {} : { secure: secure.sender }),
      ...(hub === undefined ? {} : { hub }),
    }),
    broadcaster: withHubBroadcasts(lan.broadcaster, () => lan.broadcasts, hub),
    workgroup: oemUpperCase(config.workgroup, config.dosCharset),
    sessionUsers: () => lan.sessionUsers(),
    maxMessageBytes: config.maxMessageSize,
    charset: config.dosCharset,
    // rate limits and the recipients' rules: the front door, which the Messenger asks for every message
    admission: security.admission,
    messageTtlSeconds: config.messageTtl,
  });

  // The listeners stop as they did before the hub: SMB with the secure channel, the mailslot, then
  // the name service (releasing this host's names); then the hub. Each stops harmlessly unstarted,
  // so they are pushed now, in that order's reverse, and start below in the start order.
  if (hub !== undefined) teardown.push('hub', () => hub.stop());
  teardown.push('name service', () => lan.stopNameService());
  teardown.push('mailslot', () => lan.stopMailslots());
  teardown.push('SMB and secure listeners', () => Promise.all([lan.closeSmb(), secure?.close()]));
  // `hub gateway`: this LAN's legacy clients reach the realm's names through this host
  const gateway = hub !== undefined && config.hubGateway ? hubGateway(hub, (name) => oemUpperCase(name, config.dosCharset)) : undefined;
  if (config.hubGateway && hub === undefined) log('hub gateway: on, but there is no hub ("hub servers" is empty): nothing to relay to');
  await lan.start(messenger, addresses, security.audit, gateway);
  hub?.start({
    receive: (message) => messenger.receive(message),
    receiveBroadcast: (message) => messenger.receiveBroadcast(message),
    aliases: () => aliases.list().map((alias) => alias.name),
  });
  // The web inbox runs on the services, and the services mint its one-time logins: the one
  // cycle, closed by `web` once the server runs.
  let web: WebServer | undefined;
  const services = controlServices({
    config,
    messenger,
    security,
    receipts,
    messages: store.messages,
    resolver,
    secure,
    hub,
    webLogin:
      surfaces.push === undefined
        ? undefined
        : () => {
            if (web === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'The web inbox is not running (its port was taken at start).');
            return web.loginUrl();
          },
    listeners: () => [
      ...lan.listeners(),
      { transport: 'secure', endpoints: secure?.endpoints ?? [] },
      { transport: 'web', endpoints: web === undefined ? [] : [web.url] },
      { transport: 'control', endpoints: [paths.controlSocket] },
    ],
  });
  if (secure !== undefined) await secure.listen(addresses, services);
  // the web inbox stops first, then the control socket (closing one that never listened is harmless)
  const control = new ControlServer({ path: paths.controlSocket, mode: root ? 0o666 : 0o600, services, log });
  teardown.push('control socket', () => control.close());
  if (surfaces.push !== undefined) {
    web = await startWeb(config, log, {
      port: config.httpPort,
      bind: config.httpBind,
      services,
      store: {
        findMessages: store.messages.findMessages,
        getMessage: store.messages.getMessage,
        listMessageEvents: store.events.listMessageEvents,
        latestMessageStates: store.events.latestMessageStates,
      },
      receipts: {
        record: (message, state, surface, by) => receipts.recordNow(message, state, surface, by),
        recordAll: (messages, state, surface, by) => receipts.recordAllNow(messages, state, surface, by),
      },
      push: surfaces.push,
      workgroup: oemUpperCase(config.workgroup, config.dosCharset),
      ownerPrincipal: () => services.localPrincipal(process.getuid?.() ?? null),
      maxMessageBytes: config.maxMessageSize,
      log,
    });
    const running = web;
    if (running !== undefined) teardown.push('web inbox', () => running.close());
  }
  await control.listen();

  if (!peerCredentialsAvailable()) log('peer credentials are unavailable here: local callers are recorded without a uid');
  log(`Messenger service started as ${aliases.computerName} in workgroup ${config.workgroup}; aliases ${aliases.list().map((a) => a.name).join(', ')}; data dir ${config.dataDir}`);
  if (secure !== undefined) log(`host key ${secure.identity.fingerprint}`);
  // Like Jupyter's token link: whoever reads the daemon's log (the data dir's owner) can log in once.
  if (web !== undefined) {
    log(`web inbox at ${web.url}; one-time login: ${web.loginUrl()} (another: netsend web url)`);
    if (!isLoopback(config.httpBind)) log(`the web inbox listens on ${config.httpBind} over plain HTTP: passwords and session cookies cross the network unencrypted`);
  }
  interfaces.start(async ({ addresses: now, added }) => {
    security.interfacesChanged(now);
    logIpv4Only(added, config, log);
    await Promise.all([lan.setAddresses(now), secure?.setAddresses(now)]);
  });
  teardown.push('address watcher', () => interfaces.stop());
  receipts.start();
  return messenger;
}

const isLoopback = (address: string): boolean => address === '::1' || address.startsWith('127.');
