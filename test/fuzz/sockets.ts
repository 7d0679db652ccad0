/**
 * Fuzzing a live daemon's sockets on loopback: mutated session streams over TCP (split at random
 * points, some connections left half-sent), mutated name service packets and datagrams over
 * UDP. The daemon must stay up, keep serving its control socket and keep its memory bounded.
 */
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import { signMessage } from '../../src/security/host-identity.js';
import { DaemonProcess, freePort, tempDataDir } from '../helpers/daemon.js';
import { mutate, random, seeds } from './harness.js';


async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export interface SocketFuzzReport {
  tcpSessions: number;
  udpPackets: number;
  secureSessions: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  alive: boolean;
  controlAnswers: boolean;
}

export async function fuzzDaemonSockets(options: { seconds: number; seed: number }): Promise<SocketFuzzReport> {
  const rnd = random(options.seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const all = seeds();
  const everything = [...all.nbss, ...all.nbns, ...all.datagram];
  const { dir, cleanup } = await tempDataDir();
  const [smb, nbns, dgm, secure] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const daemon = await DaemonProcess.start(dir, ['--terminal', 'no', '--smb-ports', String(smb), '--nbt-port', String(nbns), '--dgram-port', String(dgm), '--secure-port', String(secure)]);
  // The secure channel's seeds: a host's signed deliveries and a person's logon and calls, as JSON lines.
  const host = generateKeyPairSync('ed25519');
  const hostCert = { key: host.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, cert: selfSignedCertificate('FUZZHOST', host.publicKey, host.privateKey) };
  const delivery = { from: 'FUZZER', to: 'SOMENAME', text: 'fuzz', title: null, user: null, sentAt: new Date().toISOString(), host: 'FUZZHOST', priority: 'normal', ttl: null };
  const lines = [
    { id: 1, op: 'deliver', ...delivery, signature: signMessage(delivery, host.privateKey) },
    { id: 2, op: 'auth', user: 'nobody', password: 'x' },
    { id: 3, op: 'auth', token: 'nst_x' },
    { id: 4, op: 'send', to: 'SOMENAME', text: 'hi' },
    { id: 5, op: 'names.add', name: 'X' },
    { id: 6, op: 'users.add', user: 'x', password: 'y', groups: ['Administrators'] },
  ].map((line) => Buffer.from(`${JSON.stringify(line)}\n`));
  let secureSessions = 0;
  try {
    await daemon.cli(['name', 'SOMENAME', '/add']); // the name in smbclient's captured session request
    const pid = daemon.child.pid as number;
    const rssBeforeMiB = await rssMiB(pid);
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const deadline = performance.now() + options.seconds * 1000;
    let tcpSessions = 0;
    let udpPackets = 0;
    const tcpWorker = async () => {
      while (performance.now() < deadline) {
        tcpSessions++;
        // A stream of 1-6 packets: mostly the real exchange, some of it mutated, split anywhere.
        const stream = Buffer.concat(Array.from({ length: 1 + pick(6) }, () => {
          const seed = all.nbss[pick(all.nbss.length)] as Uint8Array;
          return rnd() < 0.5 ? seed : mutate(seed, rnd, all.nbss);
        }));
        await new Promise<void>((resolve) => {
          const socket = connect(smb, '127.0.0.1');
          const done = () => {
            socket.destroy();
            resolve();
          };
          socket.on('error', done);
          socket.on('close', done);
          socket.setTimeout(500, done);
          socket.on('data', () => {});
          socket.on('connect', () => {
            let at = 0;
            const writeMore = () => {
              if (at >= stream.length) {
                // Leave some sessions half-sent: the daemon's timers must clean them up.
                if (rnd() < 0.8) socket.end();
                return;
              }
              const next = Math.min(stream.length, at + 1 + pick(64));
              socket.write(stream.subarray(at, next), writeMore);
              at = next;
            };
            writeMore();
          });
        });
      }
    };
    const udpWorker = async () => {
      while (performance.now() < deadline) {
        const seed = everything[pick(everything.length)] as Uint8Array;
        const packet = mutate(seed, rnd, everything);
        await new Promise<void>((resolve) => udp.send(packet, rnd() < 0.5 ? nbns : dgm, '127.0.0.1', () => resolve()));
        udpPackets++;
        if (udpPackets % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const secureWorker = async () => {
      while (performance.now() < deadline) {
        secureSessions++;
        // Half the sessions present a host certificate; lines are real requests, mutated or not.
        const stream = Buffer.concat(Array.from({ length: 1 + pick(4) }, () => {
          const seed = lines[pick(lines.length)] as Buffer;
          return rnd() < 0.3 ? seed : Buffer.concat([mutate(seed, rnd, lines), Buffer.from('\n')]);
        }));
        await new Promise<void>((resolve) => {
          const socket = tlsConnect({ host: '127.0.0.1', port: secure, rejectUnauthorized: false, ...(rnd() < 0.5 ? hostCert : {}) });
          const done = () => {
            socket.destroy();
            resolve();
          };
          socket.on('error', done);
          socket.on('close', done);
          // answers are not awaited for long: the point is what the daemon survives
          socket.setTimeout(100, done);
          socket.on('data', () => {});
          socket.on('secureConnect', () => socket.write(stream, () => rnd() < 0.8 && socket.end()));
        });
      }
    };
    await Promise.all([tcpWorker(), tcpWorker(), tcpWorker(), secureWorker(), secureWorker(), udpWorker()]);
    udp.close();
    const alive = daemon.child.exitCode === null && daemon.child.signalCode === null;
    const control = alive ? await daemon.cli(['name', '--json']) : undefined;
    return {
      tcpSessions,
      udpPackets,
      secureSessions,
      rssBeforeMiB,
      rssAfterMiB: await rssMiB(pid),
      alive,
      controlAnswers: control?.code === 0 && control.stdout.includes('SOMENAME'),
    };
  } finally {
    await daemon.stop();
    await cleanup();
  }
}
