// The density cap: at most `max` comments on screen at once, and what is shown is spread evenly
// over time.
//
// Taking comments first come, first served until the screen is full fills it in the first
// second of a burst and then shows nothing until those comments have left. Instead admissions
// are paced by a token bucket refilled at max / lifetime (the rate that keeps `max` on screen
// when each stays `lifetime` ms), holding only a limited burst (BURST_FRACTION of `max`). Due
// comments queue for a short while (the renderer's MAX_WAIT_MS); when there are more than
// tokens, the ones taken are spread evenly over the queue (every n-th, newest included), not
// its head. So a flood of 2,000 comments a minute on a cap of 120 shows a steady sample of them
// all along, and a burst in a quiet room shows every comment, spread over a moment.

// Tokens the bucket holds: how many may appear together after a quiet spell.
const BURST_FRACTION = 0.25;

export class DensityGate {
  /** @param {{max?: number, lifetimeMs?: number}} [options] */
  constructor({ max = 120, lifetimeMs = 8000 } = {}) {
    this.configure({ max, lifetimeMs });
    this.tokens = this.capacity;
  }

  /** Change the cap or the comments' lifetime (the speed setting changes it). */
  configure({ max = this.max, lifetimeMs = this.lifetimeMs } = {}) {
    this.max = Math.max(1, Math.floor(max));
    this.lifetimeMs = Math.max(1, lifetimeMs);
    this.capacity = Math.max(1, Math.ceil(this.max * BURST_FRACTION));
    this.ratePerMs = this.max / this.lifetimeMs;
    this.tokens = Math.min(this.tokens ?? this.capacity, this.capacity);
  }

  /** Let `elapsedMs` of clock time pass (never negative: a paused clock earns nothing). */
  advance(elapsedMs) {
    if (elapsedMs > 0) this.tokens = Math.min(this.capacity, this.tokens + elapsedMs * this.ratePerMs);
  }

  /** Fill the bucket (after a seek: the screen starts empty). */
  refill() {
    this.tokens = this.capacity;
  }

  /** How many comments may be admitted now, with `onScreen` already showing. */
  allowance(onScreen) {
    return Math.max(0, Math.min(Math.floor(this.tokens), this.max - onScreen));
  }

  /** Spend one token (a comment was admitted). */
  spend() {
    this.tokens = Math.max(0, this.tokens - 1);
  }
}

/**
 * `count` items spread evenly over `items` (all of them when count >= length), in order. The
 * last (newest) is always among them, so what is shown lags the stream as little as possible.
 */
export function sampleEvenly(items, count) {
  if (count >= items.length) return items.slice();
  if (count <= 0) return [];
  const picked = [];
  for (let index = count - 1; index >= 0; index--) {
    picked.push(items[items.length - 1 - Math.floor((index * items.length) / count)]);
  }
  return picked;
}
