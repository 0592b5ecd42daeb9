// DanmakuRenderer: comments flying over a video, drawn on one <canvas>.
//
// Each frame: read the clock (clock.js), retire comments that have left, take the comments
// that became due (recorded: from the timeline by video position; live: as they arrived),
// let the density gate (density.js) admit an even sample of them, give each admitted one free
// rows (layout.js) or let it wait up to MAX_WAIT_MS, then copy every on-screen comment's
// pre-drawn sprite (sprites.js) to its position. Positions are a function of the clock's time,
// so pausing the clock freezes them and changing its rate changes their pace.
//
// A jump of the clock (a seek) rebuilds the screen: it shows the timeline's comments that would
// be in flight at the new position, where they would be. A `delete` removes its comment from
// the screen, the queues and the timeline at once (and draws the next frame even under a low
// frame-rate cap); a `clear` does that for everything before it.
//
// With the viewer's `merge_repeats` on (merge.js), a comment whose normalised text repeats one
// due at most MERGE_WINDOW_MS before it is not drawn: the first one counts it and shows "×N" in
// a slot every comment reserves at its right end while merging is on, so its laid-out width
// never changes on screen (layout.js never sees a comment grow).
//
// Positioned comments (`mode: "positioned"`, Bilibili's mode 7) take no rows: they are kept in
// a list of their own (`placed`), never wait for the density cap (a drawing with parts missing
// is no drawing) but at most MAX_POSITIONED at once, and each frame draws their sprites where
// positioned.js puts them at that moment, faded and turned. A frame without any costs nothing
// more. Comments of the subtitle pool (1) are not merged or held back by the density cap and
// are drawn on a dark band.
//
// See docs/RENDERER.md for the options and the measurements.

import { WallClock } from "./clock.js";
import { DensityGate, sampleEvenly } from "./density.js";
import { compileFilter } from "./filters.js";
import { isMoving, TrackLayout } from "./layout.js";
import { RepeatMerger, repeatBadge } from "./merge.js";
import { alphaAt, frameAt, lifetime as positionedLifetime, positionAt, stageScale } from "./positioned.js";
import {
  badgeSlot,
  drawSprite,
  fontPx,
  FONT_PX,
  freeSprite,
  measure,
  normalColor,
  SIZES,
  textLines,
  turnedSprite,
} from "./sprites.js";
import { clampView, VIEWER_DEFAULTS } from "./viewer-settings.js";

export const MODES = Object.freeze(["scroll", "top", "bottom", "reverse"]);
export const POSITIONED = "positioned";
// Bilibili's pool of subtitles (docs/PROTOCOL.md: an imported comment's `pool`).
export const SUBTITLE_POOL = 1;
// Positioned comments on screen at once: past it, the oldest makes room.
export const MAX_POSITIONED = 1500;
// How long a scrolling comment takes to cross the stage, and a fixed one stays, at speed 1.
export const SCROLL_MS = 8000;
export const FIXED_MS = 4000;
// A due comment that got no turn from the density cap, or found no free rows, for this long is
// dropped rather than shown late.
const MAX_WAIT_MS = 1500;
// Live comments kept between two frames (a hidden tab draws no frames).
const MAX_ARRIVALS = 2000;
// A clock step larger than this, or backwards, is a jump (a seek, or a tab that slept).
const JUMP_MS = 3000;
// Frames kept for the frame-time statistics (5 s at 60 fps).
const STATS_FRAMES = 300;
// Sharper than 2 device pixels per CSS pixel costs memory and fill rate and is not visible.
const MAX_PIXEL_RATIO = 2;

function clamp(value, low, high, fallback) {
  const number = Number(value);
  return Number.isFinite(number) ? Math.min(high, Math.max(low, number)) : fallback;
}

/** Compare timeline items by video position, then seq. */
function byPosition(a, b) {
  return a.videoMs - b.videoMs || a.seq - b.seq;
}

/** The number of timeline items at or before `ms`. */
function countThrough(timeline, ms) {
  let low = 0;
  let high = timeline.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (timeline[middle].videoMs <= ms) low = middle + 1;
    else high = middle;
  }
  return low;
}

function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

export class DanmakuRenderer {
  /**
   * @param {HTMLCanvasElement} canvas sized by CSS; the renderer sizes its pixels
   * @param {object} [options]
   *   clock      where time comes from (default: wall clock, i.e. live)
   *   recorded   true: danmaku events with a video_ms go on the timeline and show at that position
   *   view       viewer settings (viewer-settings.js: VIEWER_DEFAULTS's keys, within RANGES)
   *   density    most comments on screen at once
   *   fps        frame-rate cap
   *   meId       the viewer's user id: their own comments get a frame and skip their filters
   *   autoStart  run the requestAnimationFrame loop (false: call tick() yourself)
   *   autoResize follow the canvas's CSS size (false: call resize() yourself)
   */
  constructor(
    canvas,
    {
      clock = new WallClock(),
      recorded = false,
      view = {},
      density = 120,
      fps = 60,
      meId = null,
      autoStart = true,
      autoResize = true,
    } = {},
  ) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.clock = clock;
    this.recorded = recorded;
    this.meId = meId;
    this.setFps(fps);
    this.layout = new TrackLayout();
    this.gate = new DensityGate({ max: density, lifetimeMs: SCROLL_MS });
    this.view = clampView(VIEWER_DEFAULTS);
    this.filter = compileFilter(this.view);
    this.merger = new RepeatMerger();

    this.active = []; // on screen, in rows
    this.placed = []; // positioned comments on screen
    this.waiting = []; // due, waiting for the density cap and free rows
    this.arrivals = []; // live comments since the last frame
    this.late = []; // timeline comments that arrived after their position had passed
    this.timeline = []; // recorded comments, by video position
    this.cursor = 0; // timeline[0, cursor) are at or before lastTime
    this.scheduled = new Set(); // seqs on the timeline
    this.deleted = new Set(); // ids of deleted comments
    this.clearedThrough = 0; // a clear hides every seq below its own
    this.longestPositioned = 0; // the longest lifetime of a positioned comment scheduled (ms)

    this.lastTime = null; // clock time of the last step
    this.generation = clock.generation;
    this.drawnTime = null; // clock time of what the canvas shows
    this.dirty = true;
    this.urgent = false; // draw on the next animation frame even under the fps cap
    this.ratio = 1;

    this.counters = { placed: 0, density: 0, space: 0, filtered: 0, removed: 0, merged: 0 };
    this.maxOnScreen = 0;
    this.frameIntervals = [];
    this.frameCosts = [];
    this.lastFrameTs = null; // the frame-rate cap's cadence
    this.lastDrawTs = null; // when the last frame was drawn
    this.frame = null;
    this.observer = null;

    this.configure(view);
    if (autoResize && typeof ResizeObserver === "function") {
      this.observer = new ResizeObserver(() => this.resize(canvas.clientWidth, canvas.clientHeight));
      this.observer.observe(canvas);
    }
    this.resize(canvas.clientWidth || canvas.width, canvas.clientHeight || canvas.height);
    if (autoStart) this.start();
  }

  // Feeding comments.

  /** Apply room events in order: danmaku are shown (or scheduled), deletes and clears remove. */
  apply(events) {
    for (const event of events) {
      if (event.kind === "danmaku") {
        if (this.recorded && Number.isInteger(event.video_ms)) this.schedule([event]);
        else this.push(event);
      } else if (event.kind === "delete") {
        this.remove(event.target);
      } else if (event.kind === "clear") {
        this.clear(event.seq);
      }
    }
  }

  /** Show a live comment now (if the filters and the density cap let it through). */
  push(event) {
    if (!this._acceptable(event)) return;
    this.arrivals.push(this._item(event));
    // No frames run in a hidden tab: keep only the newest of what piles up meanwhile.
    if (this.arrivals.length > MAX_ARRIVALS) this.arrivals.splice(0, this.arrivals.length - MAX_ARRIVALS);
  }

  /** Put recorded comments on the timeline; each shows when the clock reaches its video_ms. */
  schedule(events) {
    const added = [];
    for (const event of events) {
      if (!this._acceptable(event) || !Number.isInteger(event.video_ms)) continue;
      if (this.scheduled.has(event.seq)) continue;
      this.scheduled.add(event.seq);
      const item = this._item(event);
      if (item.positioned) this.longestPositioned = Math.max(this.longestPositioned, item.duration);
      added.push(item);
    }
    if (added.length === 0) return;
    added.sort(byPosition);
    this.timeline = this.timeline.concat(added).sort(byPosition);
    if (this.lastTime === null) return;
    this.cursor = countThrough(this.timeline, this.lastTime);
    // Comments for a moment already passed (a window fetched after a seek, a comment posted a
    // moment ago): shown mid-flight if they would still be on screen.
    for (const item of added) if (item.videoMs <= this.lastTime) this.late.push(item);
  }

  /** A moderator deleted comment `id`: gone from the screen at once, and never shown again. */
  remove(id) {
    if (id === null || id === undefined) return;
    this.deleted.add(id);
    this._drop((item) => item.id === id);
    // A repeat merged into a comment still shown or waiting: its count goes down by one.
    for (const item of [...this.active, ...this.waiting]) {
      const index = item.merged.indexOf(id);
      if (index === -1) continue;
      item.merged.splice(index, 1);
      this._redraw(item);
    }
  }

  /** Everything with a seq below `seq` is gone. */
  clear(seq) {
    this.clearedThrough = Math.max(this.clearedThrough, seq);
    this._drop((item) => item.seq < seq);
    for (const item of [...this.active, ...this.waiting]) {
      const kept = item.merged.filter((_id, index) => item.mergedSeqs[index] >= seq);
      if (kept.length === item.merged.length) continue;
      item.mergedSeqs = item.mergedSeqs.filter((each) => each >= seq);
      item.merged = kept;
      this._redraw(item);
    }
  }

  /** Forget every comment (a reset of the stream, or another video). */
  reset() {
    this._drop(() => true);
    this.scheduled.clear();
  }

  // Settings.

  /** Change viewer settings (any subset of VIEWER_DEFAULTS's keys); applies at once. */
  configure(view = {}) {
    this.view = clampView({ ...this.view, ...view });
    this.filter = compileFilter(this.view);
    this.gate.configure({ lifetimeMs: SCROLL_MS / this.view.speed });
    if (this.layout.area !== this.view.area) {
      this.layout.resize(this.layout.width, this.layout.height, this.view.area);
    }
    // What the viewer now filters out, or what lies outside a smaller area, leaves the screen.
    this._dropShown((item) => !this._wanted(item) || item.row + item.rows > this.layout.rowCount);
    this.waiting = this.waiting.filter((item) => this._wanted(item));
    this.dirty = true;
    this.urgent = true;
  }

  /**
   * How long the longest-lived comment stays on screen at the current speed (ms); a positioned
   * comment's own duration (up to a minute) counts once one has been scheduled.
   */
  longestLifetime() {
    return Math.max(Math.max(SCROLL_MS, FIXED_MS) / this.view.speed, this.longestPositioned);
  }

  /** The most comments on screen at once. */
  setDensity(max) {
    this.gate.configure({ max });
  }

  /** The frame-rate cap. */
  setFps(fps) {
    this.fps = clamp(fps, 1, 240, 60);
  }

  /** The canvas's size in CSS px; its pixels follow devicePixelRatio. */
  resize(width, height) {
    const ratio = Math.min(MAX_PIXEL_RATIO, Math.max(1, globalThis.devicePixelRatio || 1));
    const pixelWidth = Math.max(1, Math.round(width * ratio));
    const pixelHeight = Math.max(1, Math.round(height * ratio));
    if (this.canvas.width !== pixelWidth) this.canvas.width = pixelWidth;
    if (this.canvas.height !== pixelHeight) this.canvas.height = pixelHeight;
    const ratioChanged = ratio !== this.ratio;
    this.ratio = ratio;
    this.layout.resize(width, height, this.view.area);
    this._dropShown((item) => item.row + item.rows > this.layout.rowCount);
    if (ratioChanged) {
      for (const item of this.active) {
        freeSprite(item.sprite);
        item.sprite = this._sprite(item);
      }
    }
    // A positioned comment's text follows the stage's size.
    for (const item of this.placed) {
      this._measurePositioned(item);
      freeSprite(item.sprite);
      item.sprite = this._sprite(item);
    }
    this.dirty = true;
    this.urgent = true;
  }

  // The frame loop.

  start() {
    if (this.frame !== null) return;
    const loop = (timestamp) => {
      this.frame = requestAnimationFrame(loop);
      this._onAnimationFrame(timestamp);
    };
    this.frame = requestAnimationFrame(loop);
  }

  stop() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.lastFrameTs = null;
  }

  destroy() {
    this.stop();
    if (this.observer) this.observer.disconnect();
    this._dropShown(() => true);
  }

  /** Advance to the clock's time (or `now`) and draw: one frame. */
  tick(now = this.clock.now()) {
    this._step(now);
    this._draw(now);
  }

  _onAnimationFrame(timestamp) {
    const interval = 1000 / this.fps;
    if (this.lastFrameTs !== null) {
      const since = timestamp - this.lastFrameTs;
      if (since < interval - 1 && !this.urgent) return;
      // Keep the cadence: a cap of 60 on a 144 Hz display averages 60 frames a second, not 48.
      this.lastFrameTs += interval * Math.max(1, Math.floor((since + 1) / interval));
      if (timestamp - this.lastFrameTs > interval) this.lastFrameTs = timestamp; // fell behind
      this._record(this.frameIntervals, timestamp - this.lastDrawTs);
    } else {
      this.lastFrameTs = timestamp;
    }
    this.lastDrawTs = timestamp;
    const began = performance.now();
    this.tick();
    this._record(this.frameCosts, performance.now() - began);
  }

  // Inspection (window.danmaku in the pages, and the tests).

  /** What is on screen, as drawn in the last frame. */
  snapshot() {
    const time = this.drawnTime ?? this.lastTime ?? 0;
    return {
      time,
      width: this.layout.width,
      height: this.layout.height,
      rowUnit: this.layout.rowUnit,
      rowCount: this.layout.rowCount,
      view: { ...this.view },
      density: this.gate.max,
      positioned: this.placed.map((item) => {
        const frame = frameAt(item.positioned, time - item.start, this.layout.width, this.layout.height);
        return { id: item.id, seq: item.seq, text: item.text, video_ms: item.videoMs, w: item.w, h: item.h, ...frame };
      }),
      comments: this.active.map((item) => ({
        id: item.id,
        seq: item.seq,
        text: item.text,
        user: item.user ? item.user.name : null,
        mode: item.mode,
        color: item.color,
        size: item.size,
        mine: item.mine,
        count: 1 + item.merged.length, // itself and the repeats merged into it
        slot: item.slot, // px at the right end of w kept for the ×N badge
        video_ms: item.videoMs,
        track: { type: item.mode, row: item.row, rows: item.rows },
        x: this.layout.x(item, time),
        y: this.layout.y(item),
        w: item.w,
        h: item.h,
      })),
    };
  }

  /** Frame times (ms between drawn frames), the cost of each frame, and the counters. */
  stats() {
    const intervals = [...this.frameIntervals].sort((a, b) => a - b);
    const costs = [...this.frameCosts].sort((a, b) => a - b);
    const total = intervals.reduce((sum, value) => sum + value, 0);
    const mean = intervals.length ? total / intervals.length : null;
    return {
      frames: intervals.length,
      fps: mean ? 1000 / mean : null,
      frameMs: {
        mean,
        p50: percentile(intervals, 0.5),
        p95: percentile(intervals, 0.95),
        p99: percentile(intervals, 0.99),
        max: intervals.length ? intervals[intervals.length - 1] : null,
        over20: intervals.filter((value) => value > 20).length,
      },
      costMs: { p50: percentile(costs, 0.5), p95: percentile(costs, 0.95), max: costs.at(-1) ?? null },
      onScreen: this.active.length,
      positioned: this.placed.length,
      maxOnScreen: this.maxOnScreen,
      waiting: this.waiting.length,
      timeline: this.timeline.length,
      ...this.counters,
    };
  }

  /** Start the frame statistics and the on-screen maximum afresh. */
  resetStats() {
    this.frameIntervals = [];
    this.frameCosts = [];
    this.maxOnScreen = this.active.length;
  }

  // Internals.

  _record(list, value) {
    list.push(value);
    if (list.length > STATS_FRAMES) list.shift();
  }

  _acceptable(event) {
    return (
      event &&
      event.kind === "danmaku" &&
      typeof event.seq === "number" &&
      !event.deleted &&
      !this.deleted.has(event.id) &&
      event.seq >= this.clearedThrough &&
      // A mode this renderer does not draw (one added later, a positioned comment without its
      // fields) is skipped, never scrolled across as plain text; a comment without a mode scrolls.
      (event.mode === undefined ||
        event.mode === null ||
        MODES.includes(event.mode) ||
        (event.mode === POSITIONED && event.positioned !== null && typeof event.positioned === "object"))
    );
  }

  _item(event) {
    const positioned = event.mode === POSITIONED ? event.positioned : null;
    return {
      id: event.id,
      seq: event.seq,
      text: textLines(event.text).join("\n"),
      mode: positioned ? POSITIONED : MODES.includes(event.mode) ? event.mode : "scroll",
      positioned, // its fields (positioned.js), or null
      subtitle: event.pool === SUBTITLE_POOL,
      color: normalColor(event.color),
      size: SIZES.includes(event.size) ? event.size : "medium",
      user: event.user ?? null,
      mine: this.meId !== null && event.user?.id === this.meId,
      videoMs: Number.isInteger(event.video_ms) ? event.video_ms : null,
      due: 0,
      start: 0,
      row: null,
      rows: 0,
      w: 0,
      h: 0,
      px: 0,
      speed: 0,
      duration: positioned ? positionedLifetime(positioned) : 0,
      sprite: null,
      ox: 0, // a positioned comment's turned sprite: its corner from the comment's (CSS px)
      oy: 0,
      roomless: false, // chosen to show at least once but found no free rows
      slot: 0, // px kept at the right end for the repeat badge (merging on)
      merged: [], // ids of the repeats counted on this comment
      mergedSeqs: [],
    };
  }

  /** Whether the viewer wants this comment now. */
  _wanted(item) {
    if (!this.view.show || this.deleted.has(item.id) || item.seq < this.clearedThrough) return false;
    return this.filter(item);
  }

  _step(now) {
    const elapsed = this.lastTime === null ? 0 : now - this.lastTime;
    // The first frame starts like a seek: a video already playing shows what is in flight.
    const jumped = this.lastTime === null || elapsed < 0 || elapsed > JUMP_MS;
    if (jumped || this.clock.generation !== this.generation) {
      this.generation = this.clock.generation;
      this.lastTime = now;
      this._rebuild(now);
      return;
    }
    this.gate.advance(elapsed);
    this._retire(now);
    const due = [];
    while (this.cursor < this.timeline.length && this.timeline[this.cursor].videoMs <= now) {
      const item = this.timeline[this.cursor++];
      item.due = item.videoMs;
      due.push(item);
    }
    for (const item of this.arrivals) {
      item.due = now;
      due.push(item);
    }
    this.arrivals = [];
    this._admit(due, now);
    if (this.late.length) this._restore(this.late.splice(0), now);
    this._placeWaiting(now);
    this.lastTime = now;
  }

  /** Queue the comments that became due (those the viewer filters out never queue). */
  _admit(due, now) {
    if (due.length === 0) return;
    const wanted = due.filter((item) => this._wanted(item));
    this.counters.filtered += due.length - wanted.length;
    for (const item of wanted) {
      if (item.positioned) {
        this._placePositioned(item, item.due, now);
        continue;
      }
      item.roomless = false;
      const canTake = (leader) => (leader.sprite !== null && leader.slot > 0) || this.waiting.includes(leader);
      if (this._mergeInto(item, item.due, canTake)) continue;
      this.waiting.push(item);
    }
  }

  /**
   * With merging on, count `item` on the comment it repeats (if that one can take it): true if
   * it was merged and is not to be shown itself. The viewer's own comments are always shown.
   */
  _mergeInto(item, due, canTake) {
    if (!this.view.merge_repeats || item.mine || item.subtitle || item.positioned) return false;
    const leader = this.merger.leaderFor(item, due, (first) => !first.mine && canTake(first));
    if (leader === null) return false;
    leader.merged.push(item.id);
    leader.mergedSeqs.push(item.seq);
    this.counters.merged += 1;
    this._redraw(leader);
    return true;
  }

  /** Draw an on-screen comment's sprite again (its repeat count changed). */
  _redraw(item) {
    if (item.sprite === null) return;
    freeSprite(item.sprite);
    item.sprite = this._sprite(item);
    this.dirty = true;
  }

  /**
   * Show as many waiting comments as the density gate allows, spread evenly over the queue,
   * each where it finds free rows. A comment waits at most MAX_WAIT_MS, for a token or for room.
   */
  _placeWaiting(now) {
    if (this.waiting.length === 0) return;
    const fresh = [];
    for (const item of this.waiting) {
      if (!this._wanted(item)) continue; // deleted or filtered out meanwhile
      if (now - item.due <= MAX_WAIT_MS) fresh.push(item);
      else if (item.roomless) this.counters.space += 1; // its turn came, but no rows were free
      else this.counters.density += 1; // the density cap passed it over
    }
    this.waiting = [];
    // Subtitles first, without the density cap's token: they only wait for free rows.
    const others = [];
    for (const item of fresh) {
      if (!item.subtitle) others.push(item);
      else if (this._place(item, now, now)) continue;
      else {
        item.roomless = true;
        this.waiting.push(item);
      }
    }
    const chosen = new Set(sampleEvenly(others, this.gate.allowance(this.active.length)));
    for (const item of others) {
      if (chosen.has(item)) {
        if (this._place(item, now, now)) {
          this.gate.spend();
          continue;
        }
        item.roomless = true;
      }
      this.waiting.push(item);
    }
  }

  /** Show timeline comments mid-flight, where they would be at `now` (after a seek). */
  _restore(items, now) {
    let inFlight = items.filter((item) => this._wanted(item) && now - item.videoMs < this._lifetime(item));
    inFlight.sort(byPosition);
    for (const item of inFlight) if (item.positioned) this._placePositioned(item, item.videoMs, now);
    inFlight = inFlight.filter((item) => !item.positioned);
    if (this.view.merge_repeats) {
      // Repeats among them count on their first (which is placed below, or already shown).
      const leaders = new Set();
      inFlight = inFlight.filter((item) => {
        const canTake = (leader) => leaders.has(leader) || (leader.sprite !== null && leader.slot > 0);
        if (this._mergeInto(item, item.videoMs, canTake)) return false;
        leaders.add(item);
        return true;
      });
    }
    const room = Math.max(0, this.gate.max - this.active.length);
    for (const item of sampleEvenly(inFlight, room)) this._place(item, item.videoMs, now);
  }

  _rebuild(now) {
    this._dropShown(() => true);
    this.layout.clear();
    this.waiting = [];
    this.late = [];
    this.merger.reset();
    for (const item of this.timeline) {
      item.merged = [];
      item.mergedSeqs = [];
    }
    this.gate.refill();
    this.cursor = countThrough(this.timeline, now);
    const from = countThrough(this.timeline, now - this.longestLifetime());
    this._restore(this.timeline.slice(from, this.cursor), now);
    this.dirty = true;
  }

  _lifetime(item) {
    if (item.positioned) return item.duration; // the file's own timing, whatever the speed
    return (isMoving(item.mode) ? SCROLL_MS : FIXED_MS) / this.view.speed;
  }

  /** Measure the comment, find it rows from `start` on, draw its sprite: true if it is shown. */
  _place(item, start, now) {
    if (this.layout.rowCount === 0 || this.layout.width === 0) return false;
    const px = fontPx(item.size, this.view.scale);
    const slot = this.view.merge_repeats && !item.mine ? badgeSlot(px) : 0;
    if (item.px !== px || item.slot !== slot) {
      const box = measure(item.text, px);
      item.w = box.w + slot;
      item.h = box.h;
      item.px = px;
      item.slot = slot;
    }
    item.start = start;
    item.duration = this._lifetime(item);
    item.speed = isMoving(item.mode) ? (this.layout.width + item.w) / item.duration : 0;
    if (this.layout.end(item) <= now) return false;
    if (!this.layout.place(item, now)) return false;
    item.sprite = this._sprite(item);
    this.active.push(item);
    this.counters.placed += 1;
    this.maxOnScreen = Math.max(this.maxOnScreen, this.active.length);
    this.dirty = true;
    return true;
  }

  /** Show a positioned comment from `start` on (no rows, no density token): true if shown. */
  _placePositioned(item, start, now) {
    if (this.layout.width === 0 || this.layout.height === 0) return false;
    if (start + item.duration <= now || this.placed.includes(item)) return false;
    item.start = start;
    this._measurePositioned(item);
    item.sprite = this._sprite(item);
    this.placed.push(item);
    if (this.placed.length > MAX_POSITIONED) {
      const [oldest] = this.placed.splice(0, 1);
      freeSprite(oldest.sprite);
      oldest.sprite = null;
    }
    this.counters.placed += 1;
    this.dirty = true;
    return true;
  }

  /** A positioned comment's text size follows the stage (Bilibili's sizes at the reference size). */
  _measurePositioned(item) {
    const scale = stageScale(this.layout.width, this.layout.height).text;
    const px = Math.max(6, Math.round((FONT_PX[item.size] ?? FONT_PX.medium) * scale));
    const box = measure(item.text, px, item.positioned.font);
    item.px = px;
    item.w = box.w;
    item.h = box.h;
  }

  _sprite(item) {
    const sprite = drawSprite(item.text, {
      px: item.px,
      w: item.w,
      h: item.h,
      color: item.color,
      ratio: this.ratio,
      mine: item.mine,
      slot: item.slot,
      badge: item.merged.length > 0 ? repeatBadge(1 + item.merged.length) : "",
      font: item.positioned?.font ?? "",
      stroke: item.positioned?.stroke !== false,
      subtitle: item.subtitle,
    });
    if (!item.positioned) return sprite;
    // A positioned comment's turn never changes: it is drawn into its sprite once.
    const { rotate, scaleX } = frameAt(item.positioned, 0, this.layout.width, this.layout.height);
    item.ox = 0;
    item.oy = 0;
    if (rotate === 0 && scaleX === 1) return sprite;
    const turned = turnedSprite(sprite, { w: item.w, h: item.h, rotate, scaleX, ratio: this.ratio });
    freeSprite(sprite);
    item.ox = turned.ox;
    item.oy = turned.oy;
    return turned.sprite;
  }

  _retire(now) {
    this._dropShown((item) => (item.positioned ? item.start + item.duration : this.layout.end(item)) <= now);
  }

  /** Take matching comments off the screen (rows and positioned ones). */
  _dropShown(matches) {
    for (const list of [this.active, this.placed]) {
      let kept = 0;
      for (const item of list) {
        if (matches(item)) {
          this.layout.release(item);
          freeSprite(item.sprite);
          item.sprite = null;
          this.dirty = true;
        } else {
          list[kept++] = item;
        }
      }
      list.length = kept;
    }
  }

  /** Take matching comments off the screen, out of the queues and off the timeline. */
  _drop(matches) {
    const shown = this.active.length + this.placed.length;
    this._dropShown(matches);
    const left = this.active.length + this.placed.length;
    this.counters.removed += shown - left;
    if (shown !== left) this.urgent = true;
    this.waiting = this.waiting.filter((item) => !matches(item));
    this.arrivals = this.arrivals.filter((item) => !matches(item));
    this.late = this.late.filter((item) => !matches(item));
    const before = this.timeline.length;
    this.timeline = this.timeline.filter((item) => !matches(item));
    if (this.timeline.length !== before && this.lastTime !== null) {
      this.cursor = countThrough(this.timeline, this.lastTime);
    }
  }

  _draw(now) {
    const moving = this.active.length + this.placed.length > 0 && now !== this.drawnTime;
    if (!this.dirty && !moving) return; // a paused clock or an empty screen: the canvas is right
    const context = this.context;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    context.globalAlpha = this.view.opacity;
    const ratio = this.ratio;
    for (const item of this.active) {
      const x = Math.round(this.layout.x(item, now) * ratio);
      const y = Math.round(this.layout.y(item) * ratio);
      context.drawImage(item.sprite, x, y);
    }
    if (this.placed.length > 0) this._drawPlaced(context, now);
    this.drawnTime = now;
    this.dirty = false;
    this.urgent = false;
  }

  /**
   * Positioned comments: each sprite (turned once, when it was drawn) where and as opaque as it
   * is at `now`, copied at whole device pixels like the others.
   */
  _drawPlaced(context, now) {
    const ratio = this.ratio;
    const { width, height } = this.layout;
    for (const item of this.placed) {
      if (item.sprite === null) continue;
      const elapsed = now - item.start;
      const alpha = alphaAt(item.positioned, elapsed);
      if (alpha <= 0) continue;
      const { x, y } = positionAt(item.positioned, elapsed, width, height);
      context.globalAlpha = this.view.opacity * alpha;
      context.drawImage(item.sprite, Math.round((x + item.ox) * ratio), Math.round((y + item.oy) * ratio));
    }
    context.globalAlpha = this.view.opacity;
  }
}
