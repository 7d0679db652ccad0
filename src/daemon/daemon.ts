import { mkdir } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { BindAddress } from '../config/interfaces.js';
import { InterfaceWatcher, type InterfaceChange } from '../os/network.js';
import { NBSS_PORT } from '../protocols/nbss/index.js';
import { ConfigError, type Config } from '../config/load.js';
import { dataDirPaths } from '../config/paths.js';
import { AliasTable, type Alias, type NameRegistrar } from '../messenger/aliases.js';
import { NetApiError } from '../messenger/errors.js';
import { Messenger, broadcastsOff, type BroadcastSender, type Sink } from '../messenger/messenger.js';
import { aliasProblem, oemUpperCase } from '../messenger/names.js';
import { FanOut } from '../sinks/fanout.js';
import { HookSink } from '../sinks/hook.js';
import { TerminalSink } from '../sinks/terminal.js';
import { DesktopSink, sessionBusTarget } from '../sinks/desktop.js';
import { TtySink } from '../sinks/tty.js';
import { SqliteStore, StoreLockedError } from '../store/sqlite.js';
import { ControlServer } from '../transports/control/server.js';
import { peerCredentialsAvailable } from '../transports/control/peercred.js';
import { NameCache } from '../resolve/cache.js';
import { LmhostsResolver, type NameResolver } from '../resolve/resolver.js';
import { RateLimiter } from '../policy/rate-limit.js';
import { SmbSender } from '../transports/smb/sender.js';
import { SmbServer } from '../transports/smb/server.js';
import { AliasGate } from '../security/front-door.js';
import { LogonGate } from '../security/logon-gate.js';
import { findAccount } from '../os/local-users.js';
import { wireName } from '../transports/legacy-text.js';
import { NameService, type OwnedName } from '../transports/nbns/service.js';
import { MailslotService } from '../transports/mailslot/service.js';
import { SUFFIX } from '../protocols/netbios-name/index.js';
import { loggedOnTtys, loggedOnUsers } from '../os/utmp.js';
import { createSecurity, type DaemonSecurity } from './security.js';
import { Receipts } from '../messenger/receipts.js';
import type { ControlServices } from '../control/handlers.js';
import { loadHostIdentity, type HostIdentity } from '../security/host-identity.js';
import { KnownHosts } from '../security/known-hosts.js';
import { SecureServer } from '../transports/secure/server.js';
import { SecureSender } from '../transports/secure/sender.js';
import type { SecureTrust } from '../transports/secure/client.js';
import { PushHub } from '../web/push.js';
import { WebServer } from '../web/server.js';

export interface DaemonIo {
  /** Where received messages are shown (the daemon's terminal). */
  stdout: Writable;
  /** Operational log lines. */
  log: (line: string) => void;
}

/** How long shutdown waits for message commands still running. */
const HOOK_DRAIN_MS = 5000;
/** How long one message may take to reach one terminal: a terminal that takes nothing for this long is not being read. */
const TTY_TIMEOUT_MS = 2000;
/** How long a desktop notification may take, starting the helper process and connecting included. */
const DESKTOP_TIMEOUT_MS = 10_000;

/**
 * The Messenger service of one data dir: the only place that builds and wires the store, the
 * alias table, the sinks and the transports, and takes them down in reverse order.
 */
export class Daemon {
  readonly messenger: Messenger;
  readonly #store: SqliteStore;
  readonly #control: ControlServer;
  readonly #smb: SmbServer[];
  readonly #secure: SecureServer[];
  readonly #names: NameService[];
  readonly #mailslots: MailslotService[];
  readonly #hook: HookSink | undefined;
  readonly #receipts: Receipts;
  readonly #tty: TtySink | undefined;
  readonly #desktop: DesktopSink | undefined;
  readonly #web: WebServer | undefined;
  readonly #interfaces: InterfaceWatcher;
  readonly #config: Config;
  readonly #log: (line: string) => void;
  #stopping: Promise<void> | undefined;

  private constructor(parts: {
    messenger: Messenger;
    store: SqliteStore;
    control: ControlServer;
    smb: SmbServer[];
    secure: SecureServer[];
    names: NameService[];
    mailslots: MailslotService[];
    hook: HookSink | undefined;
    receipts: Receipts;
    tty: TtySink | undefined;
    desktop: DesktopSink | undefined;
    web: WebServer | undefined;
    interfaces: InterfaceWatcher;
    config: Config;
    log: (line: string) => void;
  }) {
    this.#config = parts.config;
    this.messenger = parts.messenger;
    this.#store = parts.store;
    this.#control = parts.control;
    this.#smb = parts.smb;
    this.#secure = parts.secure;
    this.#names = parts.names;
    this.#mailslots = parts.mailslots;
    this.#hook = parts.hook;
    this.#receipts = parts.receipts;
    this.#tty = parts.tty;
    this.#desktop = parts.desktop;
    this.#web = parts.web;
    this.#interfaces = parts.interfaces;
    this.#log = parts.log;
  }

  /**
   * @throws NetApiError NERR_MsgAlreadyStarted when another daemon holds the data dir
   * @throws ConfigError for settings that contradict each other
   */
  static async start(config: Config, io: DaemonIo): Promise<Daemon> {
    // Without a site CA, "ca" would check certificates against the public roots, with host names
    // unchecked: any web server's certificate would pass for one of the site's hosts.
    if (config.secureTrust === 'ca' && config.secureCaFile === '') {
      throw new ConfigError('"secure trust" = ca needs "secure ca file": the site CA certificate (PEM) host certificates must be signed by.');
    }
    const root = process.getuid?.() === 0;
    const paths = dataDirPaths(config.dataDir);
    // Root serves every local user, so they must reach the socket; the database stays private.
    await mkdir(config.dataDir, { recursive: true, mode: root ? 0o755 : 0o700 });
    process.umask(0o077);

    let store: SqliteStore;
    try {
      store = await SqliteStore.open(paths.database);
    } catch (error) {
      if (error instanceof StoreLockedError) {
        throw new NetApiError('NERR_MsgAlreadyStarted', `Another netsend daemon is running on ${config.dataDir}.`, { cause: error });
      }
      throw error;
    }

    try {
      const users = loggedOnUsers().filter((user) => {
        const problem = aliasProblem(user, config.dosCharset);
        if (problem !== null) io.log(`user "${user}" cannot be a message alias (${problem}); not registered`);
        return problem === null;
      });
      // The name services start after the messenger (they answer for its names); the registrar and
      // resolver reach them through this list, filled once they run.
      const network: NameService[] = [];
      const wire = (name: string) => wireName(name, config.dosCharset);
      const registrar: NameRegistrar = {
        register: async (alias: Alias) => {
          for (const service of network) await service.register({ name: wire(alias.name), suffix: SUFFIX.messenger, group: false });
        },
        release: async (alias: Alias) => {
          for (const service of network) await service.release({ name: wire(alias.name), suffix: SUFFIX.messenger, group: false });
        },
      };
      const mailslots: MailslotService[] = [];
      const smbServers: SmbServer[] = [];
      const broadcaster: BroadcastSender = {
        broadcast: async (message, scope) => {
          // no datagram port (--dgm-port 0, or it could not be opened): nobody else would hear it
          if (mailslots.length === 0) throw broadcastsOff();
          let report = {};
          for (const service of mailslots) report = await service.broadcast(message, scope);
          return report;
        },
      };
      // `name resolve order`: each source asked in turn (RFC 1001 §15.1.3 for WINS, §15.2.3 for bcast).
      const viaNameService = (ask: (service: NameService, name: string, suffix: number) => Promise<string | null>): NameResolver => ({
        resolve: async (name, suffix) => {
          for (const service of network) {
            const address = await ask(service, wire(name), suffix);
            if (address !== null) return { address, port: NBSS_PORT };
          }
          return null;
        },
      });
      const sources: Record<string, NameResolver> = {
        lmhosts: new LmhostsResolver(paths.lmhosts, NBSS_PORT),
        wins: viaNameService((service, name, suffix) => service.resolveWins(name, suffix)),
        bcast: viaNameService((service, name, suffix) => service.resolve(name, suffix)),
      };
      // The host's addresses, read once here and followed afterwards; every transport gets them from here.
      const secureServers: SecureServer[] = [];
      const interfaces = new InterfaceWatcher({
        specs: config.interfaces,
        onChange: (change) => applyInterfaceChange(config, change, { smb: smbServers, secure: secureServers, names: network, mailslots, security, log: io.log }),
        log: io.log,
      });
      const addresses = interfaces.addresses;
      logIpv4Only(addresses, config, io.log);
      const security = await createSecurity(config, store, addresses, io.log);
      const secureOn = config.securePort.length > 0;
      const identity = secureOn
        ? await loadHostIdentity({ dataDir: config.dataDir, computerName: config.netbiosName, certFile: config.secureCertFile, keyFile: config.secureKeyFile })
        : undefined;
      // One known-hosts for both ways: hosts this one dials, by endpoint; hosts that deliver here, by name.
      const knownHosts = new KnownHosts(paths.knownHosts);
      const secureSender =
        identity === undefined
          ? undefined
          : new SecureSender({
              identity,
              knownHosts,
              trust: config.secureTrust as SecureTrust,
              ...(security.caPem === undefined ? {} : { caPem: security.caPem }),
              port: config.securePort[0] as number,
              log: io.log,
            });
      const cache = new NameCache(config.nameResolveOrder.map((source) => sources[source.toLowerCase()] as NameResolver), config.nameCacheTimeout);
      const aliases = new AliasTable({
        registrar,
        computerName: config.netbiosName,
        userNames: users,
        addedAliases: store.addedAliases,
        maxAddedAliases: config.maxAliases,
        store,
        charset: config.dosCharset,
      });
      const hook = config.messageCommand === ''
        ? undefined
        : new HookSink({
            command: config.messageCommand,
            timeoutMs: config.messageCommandTimeout * 1000,
            spoolDir: paths.spool,
            concurrency: 2,
            maxQueued: 1000,
            log: io.log,
          });
      // The person a message is for, wherever they are: their terminals (write(1)) and their desktop.
      // What became of each message (shown, read, acknowledged, expired), for its sender; the
      // surfaces below report to it, and it offers waiting messages to them again.
      const retry: Array<TtySink | DesktopSink> = [];
      const receipts = new Receipts({
        store: {
          recordMessageEvent: (event) => store.call('recordMessageEvent', event),
          latestMessageStates: (ids) => store.call('latestMessageStates', ids),
          expiredMessages: (after, now, before, limit) => store.call('expiredMessages', after, now, before, limit),
          waitingMessages: (after, now, before, limit) => store.call('waitingMessages', after, now, before, limit),
        },
        // each offer settles once every surface showed the message or gave up on it
        retry: { deliver: (message) => Promise.all(retry.map((sink) => sink.deliver(message))) },
        onEvent: (event) => {
          store
            .call('getMessage', event.messageId)
            .then((m) => m && push?.stateChanged(m.to, event))
            .catch(() => {});
        },
        log: io.log,
      });
      const tty = config.ttyMessages
        ? new TtySink({
            ttysOf: (alias) => loggedOnTtys(alias),
            timeoutMs: TTY_TIMEOUT_MS,
            log: io.log,
            onShown: (message, where) => receipts.record(message.id, 'shown', 'tty', where),
          })
        : undefined;
      const desktop = config.desktopNotifications
        ? new DesktopSink({
            targetFor: (alias) => sessionBusTarget(alias),
            onAcknowledge: (id, where) => {
              io.log(`message ${id} acknowledged on ${where}`);
              // where is "desktop:USER": the event log keeps the surface and who
              receipts.record(id, 'acknowledged', 'desktop', where.includes(':') ? where.slice(where.indexOf(':') + 1) : null);
            },
            onShown: (message, where) => receipts.record(message.id, 'shown', 'desktop', where.includes(':') ? where.slice(where.indexOf(':') + 1) : null),
            timeoutMs: DESKTOP_TIMEOUT_MS,
            log: io.log,
          })
        : undefined;
      // The web inbox's live stream: a sink like the others, its pages connect once the server runs.
      const push = config.httpPort === 0 ? undefined : new PushHub();
      if (push) push.onDelivered = (message) => receipts.record(message.id, 'delivered', 'web', null);
      const sinks: Sink[] = [];
      // its one line about a dead output goes to the log, which is another stream (the CLI: stderr)
      if (config.terminal) sinks.push(new TerminalSink(io.stdout, io.log));
      if (tty) sinks.push(tty);
      if (desktop) sinks.push(desktop);
      if (tty) retry.push(tty);
      if (desktop) retry.push(desktop);
      if (hook) sinks.push(hook);
      if (push) sinks.push(push);
      const messenger = new Messenger({
        aliases,
        store,
        sink: new FanOut(sinks, (error) => io.log(`a delivery sink failed: ${String(error)}`)),
        remote: new SmbSender({
          resolver: cache,
          callingName: aliases.computerName,
          charset: config.dosCharset,
          scope: config.netbiosScope,
          port: NBSS_PORT,
          ...(secureSender === undefined ? {} : { secure: secureSender }),
        }),
        broadcaster,
        workgroup: oemUpperCase(config.workgroup, config.dosCharset),
        sessionUsers: () => smbServers.flatMap((server) => server.sessionUsers()),
        maxMessageBytes: config.maxMessageSize,
        charset: config.dosCharset,
        admission: security.admission,
        messageTtlSeconds: config.messageTtl,
      });
      // Rate limits live in the front door (security.admission), which the Messenger asks for every message.
      const smb = await startSmbListeners(config, addresses, messenger, security, io.log);
      smbServers.push(...smb);
      const names = await startNameService(config, addresses, messenger, io.log);
      network.push(...names);
      mailslots.push(...(await startMailslots(config, addresses, messenger, io.log)));
      let web: WebServer | undefined;
      const services: ControlServices = {
        messenger,
        logonGate: new LogonGate({ accounts: security.accounts, audit: security.audit }),
        aliasGate: new AliasGate({
          loginNames: () => security.localUsers.names(),
          lookup: findAccount,
          canonical: (login) => (aliasProblem(login, config.dosCharset) === null ? oemUpperCase(login, config.dosCharset) : null),
          addedBy: (uid) => aliases.list().filter((alias) => aliases.ownerOf(alias.name) === uid).length,
          audit: security.audit,
        }),
        receipts: {
          local: (id) => receipts.receipt(id),
          acknowledge: (id, surface, by) => receipts.acknowledge(id, surface, by),
          message: (id) => store.call('getMessage', id),
          ...(secureSender === undefined ? {} : { remote: (host: string, id: number) => secureSender.receipt(host, id) }),
        },
        info: {
          pid: process.pid,
          dataDir: config.dataDir,
          workgroup: config.workgroup,
          startedAt: new Date().toISOString(),
          ...(identity === undefined ? {} : { hostKey: identity.fingerprint }),
        },
        access: security.access,
        accounts: security.accounts,
        aliasPolicies: security.aliasPolicies,
        audit: security.audit,
        localPrincipal: (uid) => security.localPrincipal(uid),
        resolveHost: async (name) => {
          const endpoint = await cache.resolve(name, SUFFIX.messenger);
          if (endpoint === null) throw new NetApiError('NERR_NameNotFound', `No host answers for ${name}.`);
          return endpoint.address;
        },
        // the server starts below, once these services exist (its routes run on them)
        ...(push === undefined
          ? {}
          : {
              web: {
                loginUrl: () => {
                  if (web === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'The web inbox is not running (its port was taken at start).');
                  return web.loginUrl();
                },
              },
            }),
      };
      const secure = identity === undefined ? [] : await startSecureListeners(config, addresses, services, security, identity, knownHosts, io.log);
      const control = new ControlServer({ path: paths.controlSocket, mode: root ? 0o666 : 0o600, services, log: io.log });
      try {
        if (push !== undefined) {
          web = await startWeb(config, io.log, () => WebServer.start({
            port: config.httpPort,
            bind: config.httpBind,
            services,
            store: {
              findMessages: (query) => store.call('findMessages', query),
              getMessage: (id) => store.call('getMessage', id),
              recordMessageEvent: (event) => store.call('recordMessageEvent', event),
              listMessageEvents: (id) => store.call('listMessageEvents', id),
              latestMessageStates: (ids) => store.call('latestMessageStates', ids),
            },
            push,
            workgroup: oemUpperCase(config.workgroup, config.dosCharset),
            ownerPrincipal: () => services.localPrincipal(process.getuid?.() ?? null),
            maxMessageBytes: config.maxMessageSize,
          }));
        }
        await control.listen();
      } catch (error) {
        await web?.close();
        await desktop?.close();
        await Promise.all([...smb, ...secure].map((server) => server.close()));
        for (const service of names) service.stop();
        for (const service of mailslots) service.stop();
        throw error;
      }
      if (!peerCredentialsAvailable()) io.log('peer credentials are unavailable here: local callers are recorded without a uid');
      io.log(
        `Messenger service started as ${aliases.computerName} in workgroup ${config.workgroup}; ` +
          `aliases ${aliases.list().map((a) => a.name).join(', ')}; data dir ${config.dataDir}`,
      );
      if (identity !== undefined) io.log(`host key ${identity.fingerprint}`);
      // Like Jupyter's token link: whoever reads the daemon's log (the data dir's owner) can log in once.
      if (web !== undefined) {
        io.log(`web inbox at ${web.url}; one-time login: ${web.loginUrl()} (another: netsend web url)`);
        if (!isLoopback(config.httpBind)) io.log(`the web inbox listens on ${config.httpBind} over plain HTTP: passwords and session cookies cross the network unencrypted`);
      }
      secureServers.push(...secure);
      interfaces.start();
      receipts.start();
      return new Daemon({ messenger, store, control, smb, secure, names, mailslots, hook, receipts, tty, desktop, web, interfaces, config, log: io.log });
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** Drains and closes everything; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#interfaces.stop();
      await this.#web?.close();
      await this.#control.close();
      await Promise.all([...this.#smb, ...this.#secure].map((server) => server.close()));
      for (const service of this.#mailslots) service.stop();
      for (const service of this.#names) {
        await Promise.all(ownedNames(this.#config, this.messenger).map((name) => service.release(name)));
        service.stop();
      }
      // No more offers of waiting messages; the surfaces finish what they have, and what they
      // report (shown, acknowledged) reaches the store before it closes.
      await this.#receipts.stop();
      const drained = (sink: { drain(): Promise<void> } | undefined) =>
        sink && Promise.race([sink.drain(), new Promise((resolve) => setTimeout(resolve, HOOK_DRAIN_MS).unref())]);
      await Promise.all([drained(this.#hook), drained(this.#tty), drained(this.#desktop)]);
      await this.#desktop?.close();
      await this.#receipts.flush();
      await this.#store.close();
      this.#log('Messenger service stopped');
    })();
    return this.#stopping;
  }
}

const ownedNamesCache = new WeakMap<Messenger, { version: number; names: OwnedName[] }>();

/** The names this host holds, rebuilt only when the alias table changes: every name query asks. */
function ownedNames(config: Config, messenger: Messenger): OwnedName[] {
  const cached = ownedNamesCache.get(messenger);
  if (cached?.version === messenger.aliases.version) return cached.names;
  const names = computeOwnedNames(config, messenger);
  ownedNamesCache.set(messenger, { version: messenger.aliases.version, names });
  return names;
}

/**
 * The names this host holds on the network, as Windows registers them: the computer name as
 * workstation <00>, messenger <03> and server <20>, every other alias as <03>, and the workgroup
 * as a group name <00>.
 */
function computeOwnedNames(config: Config, messenger: Messenger): OwnedName[] {
  const wire = (name: string) => wireName(name, config.dosCharset);
  const computer = wire(messenger.computerName);
  const names: OwnedName[] = [SUFFIX.workstation, SUFFIX.messenger, SUFFIX.server].map((suffix) => ({ name: computer, suffix, group: false }));
  for (const alias of messenger.listNames()) {
    if (alias.kind !== 'computer') names.push({ name: wire(alias.name), suffix: SUFFIX.messenger, group: false });
  }
  names.push({ name: wire(config.workgroup), suffix: SUFFIX.workstation, group: true });
  return names;
}

/**
 * Whether a listener that could not open may be skipped: only on the default ports, and only
 * for want of privilege or because something else holds the port. Ports the administrator chose
 * must open or the daemon does not start.
 */
const isLoopback = (address: string): boolean => address === '::1' || address.startsWith('127.');

/** The web inbox; at the default port a port already taken (a second daemon) leaves it off. */
async function startWeb(config: Config, log: (line: string) => void, start: () => Promise<WebServer>): Promise<WebServer | undefined> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (skippable(error, config.sources.httpPort)) {
      log(`cannot listen on port ${config.httpPort} (${code}); the web inbox is off. Choose a port with --http-port`);
      return undefined;
    }
    throw new NetApiError('NERR_MsgInitFailed', `Cannot start the web inbox on ${config.httpBind}:${config.httpPort}: ${code ?? String(error)}.`, { cause: error });
  }
}

function skippable(error: unknown, source: string): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return source === 'default' && (code === 'EACCES' || code === 'EADDRINUSE');
}

/** The name service (UDP 137 by default) on the addresses of `interfaces`. */
async function startNameService(config: Config, addresses: readonly BindAddress[], messenger: Messenger, log: (line: string) => void): Promise<NameService[]> {
  const services: NameService[] = [];
  for (const port of config.nbtPort) {
    const service = new NameService({
      addresses,
      port,
      names: () => ownedNames(config, messenger),
      charset: config.dosCharset,
      scope: config.netbiosScope,
      winsServer: config.winsServer === '' ? undefined : config.winsServer,
      answerLimit: { ratePerSecond: config.sourceQueryRate, burst: config.sourceQueryBurst },
      log,
    });
    try {
      await service.start();
      services.push(service);
    } catch (error) {
      if (skippable(error, config.sources.nbtPort)) {
        log(`cannot use UDP port ${port} (${(error as NodeJS.ErrnoException).code}); the name service is off. Run as root, or choose a port with --nbns-port`);
        continue;
      }
      for (const s of services) s.stop();
      throw new NetApiError('NERR_MsgInitFailed', `Cannot start the name service on port ${port}: ${(error as Error).message}.`, { cause: error });
    }
  }
  // Claim every name on the broadcast segments (RFC 1001 §15.2.2.1). An alias another host holds
  // is reported; the computer name must be ours, as the Messenger service required.
  for (const service of services) {
    const claims = ownedNames(config, messenger).map(async (name) => {
      try {
        await service.register(name);
      } catch (error) {
        if (!(error instanceof NetApiError)) throw error;
        if (name.name === wireName(messenger.computerName, config.dosCharset)) {
          throw new NetApiError('NERR_NoComputerName', error.message, { cause: error });
        }
        log(`name service: ${error.message} This host does not answer for it.`);
      }
    });
    try {
      await Promise.all(claims);
    } catch (error) {
      for (const s of services) s.stop();
      throw error;
    }
    log(`answering NetBIOS name queries on ${endpointsOr(service.endpoints, config.nbtPort.join(', '), 'IPv4 ')}`);
  }
  return services;
}

/** The MESSNGR mailslot (UDP 138 by default): broadcast messages in and out. */
async function startMailslots(config: Config, addresses: readonly BindAddress[], messenger: Messenger, log: (line: string) => void): Promise<MailslotService[]> {
  const workgroup = oemUpperCase(config.workgroup, config.dosCharset);
  const services: MailslotService[] = [];
  for (const port of config.dgramPort) {
    const service = new MailslotService({
      addresses,
      port,
      charset: config.dosCharset,
      scope: config.netbiosScope,
      computerName: messenger.computerName,
      isForUs: (name, suffix) =>
        (name === workgroup && (suffix === SUFFIX.messenger || suffix === SUFFIX.workstation)) ||
        (suffix === SUFFIX.messenger && messenger.aliases.find(name) !== undefined),
      deliver: (message) => (message.to === workgroup ? messenger.receiveBroadcast(message) : messenger.receive(message)),
      log,
    });
    try {
      await service.start();
      log(`receiving broadcast messages on ${endpointsOr(service.endpoints, port, 'IPv4 ')}`);
      services.push(service);
    } catch (error) {
      if (skippable(error, config.sources.dgramPort)) {
        log(`cannot use UDP port ${port} (${(error as NodeJS.ErrnoException).code}); broadcast messages are off. Run as root, or choose a port with --dgm-port`);
        continue;
      }
      for (const s of services) s.stop();
      throw new NetApiError('NERR_MsgInitFailed', `Cannot open the datagram port ${port}: ${(error as Error).message}.`, { cause: error });
    }
  }
  return services;
}

/**
 * The SMB message listeners: one per port of `smb ports`, on the addresses `interfaces` selects
 * (every address when `bind interfaces only` is off). Port 139 needs privileges; see `skippable`.
 */
async function startSmbListeners(config: Config, addresses: readonly BindAddress[], messenger: Messenger, security: DaemonSecurity, log: (line: string) => void): Promise<SmbServer[]> {
  const servers: SmbServer[] = [];
  for (const port of config.smbPorts) {
    const server = new SmbServer({
      addresses: tcpHosts(config, addresses),
      port,
      messenger: { isAlias: (name) => messenger.aliases.find(name) !== undefined, receive: (m) => messenger.receive(m) },
      charset: config.dosCharset,
      maxMessageBytes: config.maxMessageSize,
      audit: security.audit,
      log,
    });
    try {
      await server.listen();
      log(`receiving SMB messages on ${endpointsOr(server.endpoints, port)}`);
      servers.push(server);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (skippable(error, config.sources.smbPorts)) {
        log(`cannot listen on port ${port} (${code}); SMB messages are not received. Run as root, or choose a port with --smb-port`);
        continue;
      }
      await Promise.all(servers.map((s) => s.close()));
      throw new NetApiError('NERR_MsgInitFailed', `Cannot listen for SMB messages on port ${port}: ${code ?? String(error)}.`, { cause: error });
    }
  }
  return servers;
}

/** The secure channel's TLS listeners, on the same addresses as the SMB listeners. */
async function startSecureListeners(
  config: Config,
  addresses: readonly BindAddress[],
  services: ControlServices,
  security: DaemonSecurity,
  identity: HostIdentity,
  knownHosts: KnownHosts,
  log: (line: string) => void,
): Promise<SecureServer[]> {
  const servers: SecureServer[] = [];
  for (const port of config.securePort) {
    const server = new SecureServer({
      identity,
      services,
      addresses: tcpHosts(config, addresses),
      port,
      knownHosts,
      trust: config.secureTrust as SecureTrust,
      ...(security.caPem === undefined ? {} : { caPem: security.caPem }),
      log,
    });
    try {
      await server.listen();
      log(`secure channel (TLS 1.3) on ${endpointsOr(server.endpoints, port)}`);
      servers.push(server);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (skippable(error, config.sources.securePort)) {
        log(`cannot listen on port ${port} (${code}); the secure channel is off. Choose a port with --secure-port`);
        continue;
      }
      await Promise.all(servers.map((s) => s.close()));
      throw new NetApiError('NERR_MsgInitFailed', `Cannot open the secure channel on port ${port}: ${code ?? String(error)}.`, { cause: error });
    }
  }
  return servers;
}

/** A listener's endpoints for the start-up log, or what it waits for while `interfaces` has no address yet. */
function endpointsOr(endpoints: readonly string[], port: number | string, family = ''): string {
  return endpoints.length > 0 ? endpoints.join(', ') : `port ${port}, once an ${family}address of "interfaces" is up`;
}

/**
 * What the SMB and secure listeners bind: every selected address, IPv4 and IPv6, link-local ones
 * with their zone ("fe80::1%eth0"); or, with `bind interfaces only = no`, every address of the host.
 */
function tcpHosts(config: Config, addresses: readonly BindAddress[]): string[] | undefined {
  return config.bindInterfacesOnly ? addresses.map((a) => a.host) : undefined;
}

/**
 * NetBIOS names and datagrams are IPv4 only (RFC 1001/1002 define no IPv6 mapping; nmbd is
 * IPv4 only too): say so once for the IPv6 addresses `interfaces` selects, which SMB and the
 * secure channel do serve.
 */
function logIpv4Only(addresses: readonly BindAddress[], config: Config, log: (line: string) => void): void {
  // loopback (::1) is left out: nothing on a LAN asks it, and every default start would say it
  const ipv6 = addresses.filter((a) => a.family === 'IPv6' && a.address !== '::1').map((a) => a.host);
  if (ipv6.length === 0 || (config.nbtPort.length === 0 && config.dgramPort.length === 0)) return;
  log(`NetBIOS names and broadcasts are IPv4 only (RFC 1001/1002): ${ipv6.join(', ')} receive SMB messages and the secure channel, not name queries or mailslot broadcasts`);
}

/** The host's addresses changed: every transport follows, and `legacy subnets = local` too. */
async function applyInterfaceChange(
  config: Config,
  change: InterfaceChange,
  parts: { smb: SmbServer[]; secure: SecureServer[]; names: NameService[]; mailslots: MailslotService[]; security: DaemonSecurity; log: (line: string) => void },
): Promise<void> {
  parts.security.interfacesChanged(change.addresses);
  logIpv4Only(change.added, config, parts.log);
  const hosts = tcpHosts(config, change.addresses);
  await Promise.all([
    ...parts.smb.map((server) => server.setAddresses(hosts)),
    ...parts.secure.map((server) => server.setAddresses(hosts)),
    ...parts.names.map((service) => service.setAddresses(change.addresses)),
    ...parts.mailslots.map((service) => service.setAddresses(change.addresses)),
  ]);
}
