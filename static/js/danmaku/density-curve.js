// The seek bar's density curve (Bilibili's "high-energy bar"): comments counted per bucket of
// the video's position, from `GET /rooms/<slug>/danmaku/density` and then kept up to date as
// comments arrive. No DOM: the bar (density-bar.js) draws it; tests/js runs this in Node.

export class DensityCurve {
  /** @param {{bucket_ms: number|null, counts: number[]}} answer the endpoint's answer */
  constructor({ bucket_ms: bucketMs = null, counts = [] } = {}) {
    this.bucketMs = bucketMs;
    this.counts = [...counts];
  }

  get empty() {
    return !this.bucketMs || this.counts.length === 0;
  }

  /** Count one more comment at `videoMs` (past the end: the last bucket, as the server does). */
  add(videoMs) {
    if (this.empty || typeof videoMs !== "number" || videoMs < 0) return false;
    const index = Math.min(Math.floor(videoMs / this.bucketMs), this.counts.length - 1);
    this.counts[index] += 1;
    return true;
  }

  /** Each bucket's height, 0 to 1, relative to the busiest one. */
  heights() {
    const most = Math.max(0, ...this.counts);
    return this.counts.map((count) => (most === 0 ? 0 : count / most));
  }
}

/** The columns to fill, in pixels of a `width` x `height` bar: one per bucket, bottom-aligned. */
export function columns(heights, width, height) {
  const step = heights.length ? width / heights.length : 0;
  return heights.map((fraction, index) => {
    const left = Math.floor(index * step);
    const right = Math.floor((index + 1) * step);
    const top = height - Math.round(fraction * height);
    return { x: left, y: top, w: Math.max(1, right - left), h: height - top };
  });
}
