/**
 * Fuzzing a live daemon's sockets on loopback: mutated session streams over TCP (split at random
 * points, some connections left half-sent), mutated name service packets and datagrams over
 * UDP. The daemon must stay up, keep serving its control socket and keep its memory bounded.
 */
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { DaemonProcess, freePort, tempDataDir } from '../helpers/daemon.js';
import { mutate, random, seeds } from './harness.js';


async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export interface SocketFuzzReport {
  tcpSessions: number;
  udpPackets: number;
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
  const [smb, nbns, dgm] = [await freePort(), await freePort(), await freePort()];
  const daemon = await DaemonProcess.start(dir, ['--terminal', 'no', '--smb-port', String(smb), '--nbns-port', String(nbns), '--dgm-port', String(dgm)]);
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
    await Promise.all([tcpWorker(), tcpWorker(), tcpWorker(), tcpWorker(), udpWorker()]);
    udp.close();
    const alive = daemon.child.exitCode === null && daemon.child.signalCode === null;
    const control = alive ? await daemon.cli(['name', '--json']) : undefined;
    return {
      tcpSessions,
      udpPackets,
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
