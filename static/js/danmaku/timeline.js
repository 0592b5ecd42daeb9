// Loading a recorded video's comments by time window as playback advances.
//
// GET /rooms/<slug>/danmaku?from_ms=&to_ms=&limit= answers the comments whose video_ms is in
// [from_ms, to_ms), by position. The loader keeps the part of the video it has loaded as a set
// of intervals and, whenever the clock moves (and right after a seek), fetches what is missing
// of [now - behind, now + AHEAD_MS): `behind` covers the comments still in flight at `now`, so
// a seek shows the screen as it would be at the new position. One request at a time; a failed
// one is retried with backoff. Everything fetched goes to renderer.schedule().

import { Backoff } from "../client/backoff.js";

// Fetch this far ahead of the playback position...
const AHEAD_MS = 20_000;
// ...in requests covering at most this much video.
const WINDOW_MS = 60_000;
// Comments per request (the server allows up to 5,000).
const WINDOW_LIMIT = 1000;
// How often to look at the playback position.
const POLL_MS = 500;

/** Disjoint, sorted [from, to) intervals of loaded video time. */
export class Intervals {
  constructor() {
    this.spans = [];
  }

  add(from, to) {
    if (to <= from) return;
    const merged = [];
    let start = from;
    let end = to;
    for (const [a, b] of this.spans) {
      if (b < start || a > end) merged.push([a, b]);
      else {
        start = Math.min(start, a);
        end = Math.max(end, b);
      }
    }
    merged.push([start, end]);
    merged.sort((x, y) => x[0] - y[0]);
    this.spans = merged;
  }

  /** The first part of [from, to) not covered, as [a, b), or null. */
  firstGap(from, to) {
    let cursor = from;
    for (const [a, b] of this.spans) {
      if (b <= cursor) continue;
      if (a > cursor) return [cursor, Math.min(a, to)];
      cursor = b;
      if (cursor >= to) return null;
    }
    return cursor < to ? [cursor, to] : null;
  }

  clear() {
    this.spans = [];
  }
}

export class TimelineLoader {
  /**
   * @param {{url: string, renderer: object, clock: {now(): number}, durationMs?: number|null,
   *          behindMs?: () => number, fetcher?: typeof fetch}} options
   *   behindMs: how far before the position comments can still be on screen (the renderer knows)
   */
  constructor({ url, renderer, clock, durationMs = null, behindMs = () => 32_000, fetcher = fetch }) {
    this.url = url;
    this.renderer = renderer;
    this.clock = clock;
    this.durationMs = durationMs;
    this.behindMs = behindMs;
    this.fetcher = fetcher.bind(globalThis);
    this.loaded = new Intervals();
    this.busy = false;
    this.backoff = new Backoff();
    this.retryAt = 0;
    this.timer = null;
    this.epoch = 0; // bumped by reset(): answers to older requests are ignored
    this.requests = 0;
  }

  start() {
    if (this.timer === null) this.timer = setInterval(() => this.update(), POLL_MS);
    this.update();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  /** Forget what was loaded (the stream was reset): load it again. */
  reset() {
    this.epoch += 1;
    this.loaded.clear();
    this.busy = false;
    this.update();
  }

  /** Fetch the first missing part of the window around the playback position, if any. */
  async update() {
    if (this.busy || performance.now() < this.retryAt) return;
    const now = Math.max(0, this.clock.now());
    const from = Math.max(0, Math.floor(now - this.behindMs()));
    let to = Math.ceil(now + AHEAD_MS);
    if (this.durationMs !== null) to = Math.min(to, this.durationMs + 1);
    const gap = this.loaded.firstGap(from, to);
    if (gap === null) return;
    const [start, gapEnd] = gap;
    const end = Math.min(Math.max(gapEnd, start + 1), start + WINDOW_MS);
    this.busy = true;
    const epoch = this.epoch;
    try {
      const page = await this._fetch(start, end);
      if (epoch !== this.epoch) return;
      this.renderer.schedule(page.events);
      let loadedTo = end;
      if (page.more && page.events.length) {
        // Cut short by the limit: the rest of the last position comes with the next request.
        loadedTo = Math.max(start + 1, page.events.at(-1).video_ms);
      }
      this.loaded.add(start, loadedTo);
      this.backoff.reset();
    } catch (error) {
      if (epoch !== this.epoch) return;
      console.warn("danmaku: could not load comments", error);
      this.retryAt = performance.now() + 500 + this.backoff.next();
    } finally {
      if (epoch === this.epoch) this.busy = false;
    }
    if (epoch === this.epoch && performance.now() >= this.retryAt) this.update();
  }

  async _fetch(from, to) {
    this.requests += 1;
    const query = new URLSearchParams({
      from_ms: String(from),
      to_ms: String(to),
      limit: String(WINDOW_LIMIT),
    });
    const response = await this.fetcher(`${this.url}?${query}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const page = await response.json();
    if (!page || !Array.isArray(page.events)) throw new Error("unexpected answer");
    return page;
  }
}
