import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { killOnExit } from './children.js';

/**
 * A real NATS JetStream cluster for the hub tests (issue 14): N `nats-server` processes (Debian's
 * 2.9.10, installed by scripts/install-peers.sh) on 127.0.0.1 only, each with its own config file,
 * JetStream store and ports, spawned directly (no shell) and stopped by PID.
 *
 * What 2.9.10's monitoring endpoints give, and what this helper uses them for:
 * - `GET /healthz` — 200 `{"status":"ok"}` once the node has contact with a meta leader and every
 *   stream/consumer it holds is current; 503 with `"JetStream has not established contact with a
 *   meta leader"` or `"JetStream stream 'ACC > NAME' is not current"` before that. Readiness.
 *   (`?js-enabled-only=true` answers ok as soon as JetStream is on, leader or not: useless here.)
 * - `GET /jsz` — `meta_cluster: { name, leader?, peer, cluster_size }`; `leader` is absent until
 *   the node knows the meta leader. Readiness: every node names the same one.
 * - `GET /jsz?streams=true[&acc=ACCOUNT]` — `account_details[].stream_detail[]` with
 *   `cluster.leader` and `state.messages`. A follower keeps naming a dead leader until the
 *   election ends (about 3-4 s after a SIGKILL), so a node counts as a stream's leader only when it
 *   names itself.
 * - `GET /routez` — `num_routes`: a node is ready once it has routes to all the others.
 */

const NATS_SERVER_DEFAULT = '/usr/sbin/nats-server';
const POLL_MS = 100;
const HTTP_TIMEOUT_MS = 1_000;
const STOP_GRACE_MS = 5_000;
const START_ATTEMPTS = 3;
const STDERR_KEEP = 64 * 1024;

/** The nats-server executable: Debian's /usr/sbin/nats-server, else the first on PATH; null if none. */
export function natsServerPath(): string | null {
  const candidates = [NATS_SERVER_DEFAULT, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'nats-server'))];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/** Why the NATS tests cannot run here, or null. */
export function natsServerUnavailable(): string | null {
  return natsServerPath() === null ? 'nats-server is not installed (scripts/install-peers.sh installs it)' : null;
}

/**
 * TLS on the client port (and, with `routes`, between the nodes). Beware nats.js v3 on Node: for
 * an IP URL (`tls://127.0.0.1:…`) it upgrades the socket without a servername, so Node checks the
 * certificate against "localhost". Give the certificate `DNS:localhost` beside `IP:127.0.0.1`, or
 * pass the client `tls.checkServerIdentity: (_, cert) => checkServerIdentity('127.0.0.1', cert)`.
 */
export interface NatsTlsOptions {
  /** PEM files; the certificate must be valid for 127.0.0.1 (IP SAN) for clients that verify it. */
  cert: string;
  key: string;
  /** CA that client (and, with `routes`, peer) certificates are checked against. */
  ca?: string;
  /** Require and verify client certificates (`verify: true`). */
  verify?: boolean;
  /** Also encrypt the routes between the nodes (needs `ca`, and a cert valid for 127.0.0.1). */
  routes?: boolean;
}

export interface NatsClusterOptions {
  /** How many nodes (default 3; R3 streams need 3). One node runs without a cluster block. */
  nodes?: number;
  /** Where the config files and stores go; by default a private temp dir that `stop()` removes. */
  dir?: string;
  /** Enable JetStream on every node (default true). */
  jetstream?: boolean;
  /** Extra top-level config text added to every node's file, e.g. an `accounts { … }` block. */
  accounts?: string;
  /** TLS on the client port; `urls` then say `tls://`. */
  tls?: NatsTlsOptions;
  /** The cluster's name (default `netsend-test`). */
  clusterName?: string;
  /** Bound on the wait for readiness, in ms (default 20 000). */
  readyTimeoutMs?: number;
}

interface NodePorts {
  client: number;
  cluster: number;
  http: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Where the nodes listen: below the kernel's ephemeral range. A node stopped for a restart leaves
 * its ports free, and one in that range can meanwhile become another process's port-0 listener
 * or the source port of any outgoing connection (then the node cannot listen there again, or its
 * peers dial a stranger); nothing takes a port below the range unless it asks for that one.
 */
function portRange(): { from: number; to: number } {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  if (low !== undefined && low > 12_000) return { from: 10_000, to: low };
  if (high !== undefined && high < 63_000) return { from: high + 1, to: 65_536 };
  throw new Error(`no ports outside the ephemeral range ${low}-${high} for the test's nats-server nodes`);
}

/** Free ports on 127.0.0.1 below the ephemeral range, all held at once (so they differ), then released for the servers. */
async function freePorts(count: number): Promise<number[]> {
  const { from, to } = portRange();
  const servers = new Map<number, Server>();
  try {
    // bounded: a few taken ports cost a retry each
    for (let tries = 0; servers.size < count; tries++) {
      if (tries >= 1000) throw new Error(`no ${count} free ports between ${from} and ${to}`);
      const port = from + Math.floor(Math.random() * (to - from));
      if (servers.has(port)) continue;
      const server = createServer();
      const listening = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (listening) servers.set(port, server);
    }
    return [...servers.keys()];
  } finally {
    await Promise.all([...servers.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

const quote = (s: string) => JSON.stringify(s);

export interface JszStreamDetail {
  name: string;
  cluster?: { name?: string; leader?: string; replicas?: Array<{ name: string; current: boolean; lag?: number }> };
  state: { messages: number; bytes: number; first_seq: number; last_seq: number; consumer_count: number };
}
export interface Jsz {
  server_id: string;
  streams: number;
  consumers: number;
  messages: number;
  meta_cluster?: { name?: string; leader?: string; peer?: string; cluster_size?: number };
  account_details?: Array<{ name: string; id: string; stream_detail?: JszStreamDetail[] }>;
}

/** One nats-server of a `NatsCluster`: its ports, files and process. */
export class NatsNode {
  readonly index: number;
  /** `server_name`: n1, n2, … */
  readonly name: string;
  readonly ports: NodePorts;
  readonly url: string;
  readonly monitorUrl: string;
  readonly dir: string;
  readonly configFile: string;
  readonly storeDir: string;
  readonly #executable: string;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';

  constructor(index: number, dir: string, ports: NodePorts, scheme: 'nats' | 'tls', executable: string) {
    this.index = index;
    this.name = `n${index + 1}`;
    this.ports = ports;
    this.url = `${scheme}://127.0.0.1:${ports.client}`;
    this.monitorUrl = `http://127.0.0.1:${ports.http}`;
    this.dir = dir;
    this.configFile = join(dir, `${this.name}.conf`);
    this.storeDir = join(dir, 'store');
    this.#executable = executable;
  }

  /** The running process's PID, or undefined when stopped or killed. */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last `lines` lines the server logged (stderr, this run and earlier ones). */
  stderrTail(lines = 20): string {
    return this.#stderr.split('\n').slice(-lines - 1).join('\n').trimEnd();
  }

  /** Spawns the server on its config (same ports and store as before); does not wait. */
  spawn(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.#child?.pid})`);
    const child = spawn(this.#executable, ['-c', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    killOnExit(child);
    child.on('error', (error) => (this.#stderr += `\n[spawn error] ${error.message}\n`));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr += d;
      if (this.#stderr.length > STDERR_KEEP) this.#stderr = this.#stderr.slice(-STDERR_KEEP / 2);
    });
    this.#exited = new Promise((resolve) => child.once('close', () => resolve()));
    this.#child = child;
  }

  /** Sends `signal` (SIGKILL by default) to this node's PID and waits, at most `timeoutMs`, for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = STOP_GRACE_MS): Promise<void> {
    const child = this.#child;
    if (child === null || !this.running) return;
    child.kill(signal);
    if (!(await this.#waitExit(timeoutMs))) throw new Error(`${this.name} (pid ${child.pid}) did not exit within ${timeoutMs} ms of ${signal}`);
  }

  /** Sends `signal` without waiting (SIGSTOP/SIGCONT, SIGHUP for a reload). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child?.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    const child = this.#child;
    if (child === null || !this.running) return;
    child.kill('SIGTERM');
    if (await this.#waitExit(graceMs)) return;
    child.kill('SIGKILL');
    if (!(await this.#waitExit(graceMs))) throw new Error(`${this.name} (pid ${child.pid}) survived SIGKILL for ${graceMs} ms`);
  }

  /** Starts the node again on the same ports and store dir and waits until it is ready. */
  async restart(timeoutMs = 20_000): Promise<void> {
    await this.stop();
    this.spawn();
    await this.waitReady(timeoutMs);
  }

  async #waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([this.#exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return done;
  }

  /** GET `path` on the monitoring port: status and parsed JSON (null if the body is not JSON). */
  async monitor(path: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(this.monitorUrl + path, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, body };
  }

  /** `/healthz`: ok, or the reason it gives. */
  async health(): Promise<{ ok: boolean; error?: string }> {
    const { status, body } = await this.monitor('/healthz');
    const b = (body ?? {}) as { status?: string; error?: string };
    return status === 200 && b.status === 'ok' ? { ok: true } : { ok: false, error: b.error ?? `HTTP ${status}` };
  }

  /** `/jsz`, with `?streams=true` (and `&acc=`) when asked. */
  async jsz(options: { streams?: boolean; account?: string } = {}): Promise<Jsz> {
    const query = new URLSearchParams();
    if (options.streams) query.set('streams', 'true');
    if (options.account !== undefined) query.set('acc', options.account);
    const q = query.toString();
    const { status, body } = await this.monitor(`/jsz${q ? `?${q}` : ''}`);
    if (status !== 200) throw new Error(`${this.name} /jsz: HTTP ${status}`);
    return body as Jsz;
  }

  /** This node's view of `stream` (leader it names, state), or null if it holds no replica. */
  async streamDetail(stream: string, account?: string): Promise<JszStreamDetail | null> {
    const jsz = await this.jsz(account === undefined ? { streams: true } : { streams: true, account });
    for (const acc of jsz.account_details ?? []) {
      if (account !== undefined && acc.name !== account && acc.id !== account) continue;
      const found = acc.stream_detail?.find((s) => s.name === stream);
      if (found) return found;
    }
    return null;
  }

  /**
   * Polls (bounded) until this node answers /healthz ok, has a route to every other running node
   * and, with JetStream in a cluster, names a meta leader; returns that leader ('' where none
   * applies). Fails at once, with its log, if the process exits.
   */
  async waitReady(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (let attempt = 0; attempt < Math.ceil(timeoutMs / POLL_MS) + 1; attempt++) {
      if (!this.running) throw new NatsStartError(`${this.name} exited while starting`, [this]);
      try {
        const probe = await this.#readyOnce();
        if (probe.ready) return probe.leader;
        last = probe.why;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
    throw new NatsStartError(`${this.name} not ready after ${timeoutMs} ms: ${last}`, [this]);
  }

  async #readyOnce(): Promise<{ ready: true; leader: string } | { ready: false; why: string }> {
    const health = await this.health();
    if (!health.ok) return { ready: false, why: `healthz: ${health.error}` };
    const { jetstream, peers } = this.#settings;
    const wanted = peers().filter((n) => n !== this && n.running).length;
    const routes = ((await this.monitor('/routez')).body as { num_routes?: number } | null)?.num_routes ?? 0;
    if (routes < wanted) return { ready: false, why: `${routes} of ${wanted} routes up` };
    if (!jetstream || peers().length < 2) return { ready: true, leader: '' };
    const leader = (await this.jsz()).meta_cluster?.leader;
    return leader ? { ready: true, leader } : { ready: false, why: 'no JetStream meta leader yet' };
  }

  #settings: { jetstream: boolean; peers: () => readonly NatsNode[] } = { jetstream: true, peers: () => [] };
  /** Set by NatsCluster: whether JetStream is on, and the cluster's nodes (for the route count). */
  configure(settings: { jetstream: boolean; peers: () => readonly NatsNode[] }): void {
    this.#settings = settings;
  }
}

/** A cluster that did not come up: the message carries the nodes' log tails. */
export class NatsStartError extends Error {
  readonly nodes: readonly NatsNode[];
  constructor(message: string, nodes: readonly NatsNode[]) {
    super(`${message}\n${nodes.map((n) => `--- ${n.name} (${n.url}) stderr tail ---\n${n.stderrTail() || '(empty)'}`).join('\n')}`);
    this.name = 'NatsStartError';
    this.nodes = nodes;
  }
  get addressInUse(): boolean {
    return this.nodes.some((n) => /address already in use/i.test(n.stderrTail(50)));
  }
}

/**
 * N nats-server processes on 127.0.0.1 joined as one cluster (full mesh of routes), with
 * JetStream. `start` resolves once every node is healthy, routed to all others and agrees on the
 * JetStream meta leader; `stop` ends every process it started, by PID, and removes its temp dir.
 */
export class NatsCluster {
  readonly dir: string;
  readonly nodes: readonly NatsNode[];
  readonly #ownDir: boolean;
  readonly #readyTimeoutMs: number;

  private constructor(dir: string, ownDir: boolean, nodes: NatsNode[], readyTimeoutMs: number) {
    this.dir = dir;
    this.#ownDir = ownDir;
    this.nodes = nodes;
    this.#readyTimeoutMs = readyTimeoutMs;
  }

  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const count = options.nodes ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > 9) throw new RangeError(`nodes must be 1..9, not ${count}`);
    const executable = natsServerPath();
    if (executable === null) throw new Error(natsServerUnavailable() ?? 'nats-server not found');
    const ownDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'nats-')));
    const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
    let lastError: unknown;
    // Ports are asked of the OS then released; another process may take one before nats-server
    // binds it, so an "address already in use" start is retried on fresh ports, a bounded number of times.
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const cluster = new NatsCluster(dir, ownDir, await NatsCluster.#writeConfigs(dir, count, options, executable), readyTimeoutMs);
      try {
        for (const node of cluster.nodes) node.spawn();
        await cluster.waitReady(readyTimeoutMs);
        return cluster;
      } catch (error) {
        lastError = error;
        await Promise.allSettled(cluster.nodes.map((n) => n.stop()));
        if (!(error instanceof NatsStartError && error.addressInUse) || attempt === START_ATTEMPTS) break;
        await Promise.all(cluster.nodes.map((n) => rm(n.storeDir, { recursive: true, force: true })));
      }
    }
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw lastError;
  }

  static async #writeConfigs(dir: string, count: number, options: NatsClusterOptions, executable: string): Promise<NatsNode[]> {
    const flat = await freePorts(count * 3);
    const ports: NodePorts[] = Array.from({ length: count }, (_, i) => ({ client: flat[3 * i]!, cluster: flat[3 * i + 1]!, http: flat[3 * i + 2]! }));
    const jetstream = options.jetstream ?? true;
    const clustered = count > 1;
    const tls = options.tls;
    const nodes: NatsNode[] = [];
    for (let i = 0; i < count; i++) {
      const nodeDir = join(dir, `n${i + 1}`);
      await mkdir(nodeDir, { recursive: true });
      const node = new NatsNode(i, nodeDir, ports[i]!, tls ? 'tls' : 'nats', executable);
      node.configure({ jetstream, peers: () => nodes });
      const tlsBlock = (t: NatsTlsOptions, indent: string, verify: boolean) =>
        [`${indent}tls {`, `${indent}  cert_file: ${quote(t.cert)}`, `${indent}  key_file: ${quote(t.key)}`, ...(t.ca ? [`${indent}  ca_file: ${quote(t.ca)}`] : []), ...(verify ? [`${indent}  verify: true`] : []), `${indent}  timeout: 2`, `${indent}}`];
      const lines = [
        `# written by test/helpers/nats.ts`,
        `server_name: ${node.name}`,
        `listen: "127.0.0.1:${ports[i]!.client}"`,
        `http: "127.0.0.1:${ports[i]!.http}"`,
        ...(tls ? tlsBlock(tls, '', tls.verify === true) : []),
        ...(jetstream ? ['jetstream {', `  store_dir: ${quote(node.storeDir)}`, '}'] : []),
        ...(clustered
          ? [
              'cluster {',
              `  name: ${quote(options.clusterName ?? 'netsend-test')}`,
              `  listen: "127.0.0.1:${ports[i]!.cluster}"`,
              `  routes: [${ports.filter((_, j) => j !== i).map((p) => quote(`nats-route://127.0.0.1:${p.cluster}`)).join(', ')}]`,
              ...(tls?.routes ? tlsBlock(tls, '  ', false) : []),
              '}',
            ]
          : []),
        ...(options.accounts ? [options.accounts] : []),
        '',
      ];
      await writeFile(node.configFile, lines.join('\n'));
      nodes.push(node);
    }
    return nodes;
  }

  /** Client URLs, one a node, in node order (`nats://127.0.0.1:PORT`, or `tls://` with TLS). */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** The `urls` joined by commas: the value of `--hub-servers` / NETSEND_HUB_SERVERS. */
  get servers(): string {
    return this.urls.join(',');
  }

  /** The node by index (0-based) or by server name ('n1'…). */
  node(which: number | string): NatsNode {
    const found = typeof which === 'number' ? this.nodes[which] : this.nodes.find((n) => n.name === which);
    if (found === undefined) throw new RangeError(`no node ${which} (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    return found;
  }

  /**
   * Waits (bounded) until every running node is healthy and routed to the other running nodes,
   * and all name the same JetStream meta leader; returns its name ('' without JetStream or cluster).
   */
  async waitReady(timeoutMs = this.#readyTimeoutMs): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const running = this.nodes.filter((n) => n.running);
    for (let round = 0; round < 50; round++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      let leaders: string[];
      try {
        leaders = await Promise.all(running.map((n) => n.waitReady(remaining)));
      } catch (error) {
        if (error instanceof NatsStartError) throw new NatsStartError(error.message.split('\n')[0] ?? 'not ready', this.nodes);
        throw error;
      }
      if (new Set(leaders).size <= 1) return leaders[0] ?? '';
      await sleep(POLL_MS);
    }
    throw new NatsStartError(`cluster not ready after ${timeoutMs} ms: the nodes disagree on the meta leader`, this.nodes);
  }

  /** The JetStream meta leader's server name as the running nodes see it (null while none). */
  async metaLeader(): Promise<string | null> {
    for (const node of this.nodes.filter((n) => n.running)) {
      try {
        const jsz = await node.jsz();
        if (jsz.meta_cluster?.leader === node.name) return node.name;
      } catch {
        // a node that does not answer is not the leader
      }
    }
    return null;
  }

  /**
   * The server name of `stream`'s leader right now: the running node that names itself as the
   * leader in /jsz?streams=true. Null while there is none (during an election).
   */
  async leaderOf(stream: string, options: { account?: string } = {}): Promise<string | null> {
    for (const node of this.nodes.filter((n) => n.running)) {
      try {
        const detail = await node.streamDetail(stream, options.account);
        if (detail?.cluster?.leader === node.name) return node.name;
        // an R1 stream on a one-node "cluster" has no cluster section: that node leads it
        if (detail !== null && this.nodes.length === 1) return node.name;
      } catch {
        // a node that does not answer is not the leader
      }
    }
    return null;
  }

  /** Polls `leaderOf` (bounded) until `stream` has a leader other than `not`; returns that node. */
  async waitForLeader(stream: string, options: { account?: string; not?: string; timeoutMs?: number } = {}): Promise<NatsNode> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; attempt < Math.ceil(timeoutMs / POLL_MS) + 1; attempt++) {
      const leader = await this.leaderOf(stream, options.account === undefined ? {} : { account: options.account });
      if (leader !== null && leader !== options.not) return this.node(leader);
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
    throw new NatsStartError(`stream ${stream} has no leader${options.not ? ` other than ${options.not}` : ''} after ${timeoutMs} ms`, this.nodes);
  }

  /** Stops every node this cluster started (SIGTERM, then SIGKILL), then removes its temp dir. */
  async stop(): Promise<void> {
    const results = await Promise.allSettled(this.nodes.map((n) => n.stop()));
    if (this.#ownDir) await rm(this.dir, { recursive: true, force: true });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
