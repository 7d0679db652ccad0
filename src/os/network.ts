import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { addressChanges, resolveInterfaces, type BindAddress } from '../config/interfaces.js';

/**
 * How often the host's addresses are read again. nmbd rescans its interfaces too; Node has no
 * address-change events (netlink), and one getifaddrs() is a few microseconds, so a short poll
 * keeps a DHCP lease, a Wi-Fi join or a VPN coming up well inside a minute.
 */
export const INTERFACE_SCAN_MS = 5000;

export interface InterfaceChange {
  /** Every address `interfaces` selects now. */
  readonly addresses: readonly BindAddress[];
  readonly added: readonly BindAddress[];
  readonly removed: readonly BindAddress[];
}

export interface InterfaceWatcherOptions {
  /** The `interfaces` entries. */
  specs: readonly string[];
  log: (line: string) => void;
  scanMs?: number;
  /** The host's interfaces (tests give a fake). */
  read?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * The addresses `interfaces` selects, read once at start and watched afterwards: the one place
 * that asks the OS, so every transport sees the same list.
 */
export class InterfaceWatcher {
  readonly #options: InterfaceWatcherOptions;
  #addresses: readonly BindAddress[] = [];
  #unmatched = '';
  #timer: NodeJS.Timeout | undefined;
  /** The change being applied: the next scan waits for it, so changes apply in order. */
  #applying: Promise<void> = Promise.resolve();
  /** Told of each change; none before `start`. */
  #onChange: ((change: InterfaceChange) => Promise<void>) | undefined;

  constructor(options: InterfaceWatcherOptions) {
    this.#options = options;
    this.#addresses = this.#read();
  }

  get addresses(): readonly BindAddress[] {
    return this.#addresses;
  }

  /**
   * Rescans every `scanMs` until stopped, calling `onChange` after each scan that found a change,
   * one call at a time, in order.
   */
  start(onChange: (change: InterfaceChange) => Promise<void>): void {
    this.#onChange = onChange;
    const scanMs = this.#options.scanMs ?? INTERFACE_SCAN_MS;
    const tick = () => {
      this.#applying = this.#applying.then(() => this.scan()).finally(() => {
        if (this.#timer !== undefined) this.#timer = setTimeout(tick, scanMs).unref();
      });
    };
    this.#timer = setTimeout(tick, scanMs).unref();
  }

  /** Waits for a change being applied, and stops watching. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#applying;
  }

  /**
   * Reads the host's addresses now and applies a change (exported for tests). Before `start`
   * nobody is told: the addresses stay as read at construction.
   */
  async scan(): Promise<void> {
    const onChange = this.#onChange;
    if (onChange === undefined) return;
    const now = this.#read();
    const { added, removed } = addressChanges(this.#addresses, now);
    if (added.length === 0 && removed.length === 0) return;
    const describe = (list: readonly BindAddress[]) => list.map((a) => `${a.host} (${a.interfaceName})`).join(', ');
    this.#options.log(
      `interfaces changed:${added.length > 0 ? ` now on ${describe(added)};` : ''}${removed.length > 0 ? ` gone ${describe(removed)};` : ''}` +
        ` ${now.length} address${now.length === 1 ? '' : 'es'} in use`,
    );
    try {
      await onChange({ addresses: now, added, removed });
      this.#addresses = now;
    } catch (error) {
      // kept as it was: the next scan sees the same change and tries it again
      this.#options.log(`applying the interface change failed (tried again at the next scan): ${(error as Error).message}`);
    }
  }

  #read(): BindAddress[] {
    const { addresses, unmatched } = resolveInterfaces(this.#options.specs, (this.#options.read ?? networkInterfaces)());
    // said once per change, not on every scan
    const missing = unmatched.join(' ');
    if (missing !== this.#unmatched && missing !== '') {
      this.#options.log(`interfaces: ${unmatched.join(', ')} matches no address of this host now; waiting for it to come up`);
    }
    this.#unmatched = missing;
    return addresses;
  }
}
