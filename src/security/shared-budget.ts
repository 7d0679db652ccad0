import { RateLimiter } from '../policy/rate-limit.js';

/** Sources count as active for this long after their last message (two windows of it, rotating). */
export const ACTIVE_WINDOW_MS = 5000;
/**
 * A sender's fair-share bucket holds up to two messages (a slow sender's jitter), and a new one
 * starts with one: an attacker's fresh addresses get no more than a sender already known.
 */
const FAIR_BURST = 2;
const FAIR_START = 1;

/**
 * A budget all senders share (one alias's, or all network input's), fair among them. Its own
 * tokens go to whoever asks first; once they are spent, a sender still gets through if it keeps
 * within its fair share (the budget's rate divided by the senders active in the last few
 * seconds), from a reserve. A flood from many addresses, each at its own full rate, is far over
 * that share and is refused; a slow sender under it gets through whole. A sender as fast as each
 * flooder cannot be told from them, and shares the budget with them (max-min fairness).
 */
export class SharedBudget {
  readonly #bucket: RateLimiter;
  readonly #rate: number;
  readonly #now: () => number;
  readonly #active: ActiveSources;
  /** Each sender's fair-share tokens: they refill at the rate over the active senders. */
  readonly #fair = new Map<string, { tokens: number; at: number }>();
  readonly #maxSenders: number;

  constructor(budget: { rate: number; burst: number; reserve: number }, now: () => number, maxSenders: number) {
    this.#bucket = new RateLimiter({ ratePerSecond: budget.rate, burst: budget.burst, reserve: budget.reserve, maxSources: 1, now });
    this.#rate = budget.rate;
    this.#now = now;
    this.#maxSenders = maxSenders;
    this.#active = new ActiveSources(ACTIVE_WINDOW_MS, maxSenders);
  }

  take(sender: string): boolean {
    this.#active.see(sender, this.#now());
    return this.#bucket.take('all') || (this.#withinFairShare(sender) && this.#bucket.take('all', true));
  }

  #withinFairShare(sender: string): boolean {
    const now = this.#now();
    const rate = this.#rate / this.#active.count;
    const bucket = this.#fair.get(sender) ?? { tokens: FAIR_START, at: now };
    bucket.tokens = Math.min(FAIR_BURST, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.#fair.delete(sender);
    this.#fair.set(sender, bucket);
    if (this.#fair.size > this.#maxSenders) this.#fair.delete(this.#fair.keys().next().value as string);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** How many senders sent lately: two rotating windows, so counting costs nothing per message. */
class ActiveSources {
  readonly #windowMs: number;
  readonly #max: number;
  #current = new Set<string>();
  #previous = new Set<string>();
  #since = -Infinity;

  constructor(windowMs: number, max: number) {
    this.#windowMs = windowMs;
    this.#max = max;
  }

  see(key: string, now: number): void {
    if (now - this.#since >= this.#windowMs) {
      // a whole window with nobody in it leaves nobody active
      this.#previous = now - this.#since >= 2 * this.#windowMs ? new Set() : this.#current;
      this.#current = new Set();
      this.#since = now;
    }
    if (this.#current.size < this.#max) this.#current.add(key);
  }

  get count(): number {
    return Math.max(1, this.#current.size, this.#previous.size);
  }
}
