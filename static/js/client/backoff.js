// Reconnect delays: exponential growth with "full jitter" (a uniformly random delay between
// zero and the exponential bound), so clients dropped together do not come back together.

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;

export class Backoff {
  /** @param {{baseMs?: number, capMs?: number, random?: () => number}} [options] */
  constructor({ baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS, random = Math.random } = {}) {
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.random = random;
    this.attempt = 0;
  }

  /** The delay before the next attempt, in milliseconds; each call widens the window. */
  next() {
    const bound = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.floor(this.random() * bound);
  }

  /** Start over from the base delay (after a connection proved stable). */
  reset() {
    this.attempt = 0;
  }
}
