import { spawn, spawnSync } from 'node:child_process';
import { waitUntil } from './netns.js';

export interface CaptureReport {
  /** Frames the display filter selects. */
  packets: number;
  /** Those malformed or carrying an error-level expert note, as tshark prints them. */
  bad: string[];
  /** How many captured frames another display filter selects. */
  count: (filter: string) => number;
}

/**
 * tshark capturing on `iface` inside a test namespace (`prefix` runs commands there), under
 * `timeout`, stopped by PID. `stop` reads the capture back offline.
 */
export async function startCapture(prefix: readonly string[], iface: string, captureFilter: string, file: string) {
  const child = spawn(prefix[0] as string, [...prefix.slice(1), 'timeout', '-k', '5', '300', 'tshark', '-i', iface, '-f', captureFilter, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  await waitUntil(() => log.includes('Capturing on'), 15_000, 'tshark to start capturing');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    /**
     * Ends the capture and reports on the frames `display` selects; `exclude` names frames not
     * to judge (Wireshark 4.0's false alarm on SEND_TEXT_MB requests), `tsharkArgs` adds
     * decode-as rules.
     */
    stop: async (display: string, options: { exclude?: string; tsharkArgs?: string[] } = {}): Promise<CaptureReport> => {
      await new Promise((resolve) => setTimeout(resolve, 500)); // let the last packets reach the file
      child.kill('SIGINT');
      await exited;
      const read = (filter: string) => spawnSync('tshark', ['-r', file, ...(options.tsharkArgs ?? []), '-Y', filter], { encoding: 'utf8' }).stdout.trim().split('\n').filter((l) => l !== '');
      const bad = `(${display}) && (_ws.malformed || _ws.expert.severity == error)${options.exclude ? ` && !(${options.exclude})` : ''}`;
      return { packets: read(display).length, bad: read(bad), count: (filter: string) => read(filter).length };
    },
  };
}
