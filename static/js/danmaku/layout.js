// Track allocation: where a comment may go so that it never overlaps another comment of its
// track type (scroll, reverse, top, bottom), now or later in its flight.
//
// The display area is cut into rows of ROW_UNIT_PX; a comment takes as many consecutive rows
// as its height needs, so small, medium and large comments share one grid without wasted
// bands. Each row keeps the comments of each type that pass through it. A comment goes in the
// first run of rows (from the top; for `bottom`, from the bottom up) where it conflicts with
// none of them:
//
//   top, bottom      a row holds one comment at a time: two conflict when they are on screen
//                    at the same time.
//   scroll, reverse  two comments conflict when, at any moment both are on screen, the one that
//                    entered later is closer than GAP_PX to the one ahead of it. Positions are
//                    linear in time, so checking the first and last common moments is exact;
//                    a long (fast) comment behind a short (slow) one is refused if it would
//                    catch up before the short one has left.
//
// Times are the clock's milliseconds (clock.js); positions are CSS pixels.

export const ROW_UNIT_PX = 8;
// Horizontal clearance between two moving comments in the same rows.
export const GAP_PX = 24;
export const TRACK_TYPES = Object.freeze(["scroll", "reverse", "top", "bottom"]);
const MOVING = new Set(["scroll", "reverse"]);

export function isMoving(mode) {
  return MOVING.has(mode);
}

export class TrackLayout {
  constructor({ rowUnit = ROW_UNIT_PX, gap = GAP_PX } = {}) {
    this.rowUnit = rowUnit;
    this.gap = gap;
    this.width = 0;
    this.height = 0;
    this.area = 1;
    this.rowCount = 0;
    this.rows = Object.fromEntries(TRACK_TYPES.map((type) => [type, []]));
  }

  /** Set the stage size (CSS px) and the fraction of its height comments may use. */
  resize(width, height, area = this.area) {
    this.width = width;
    this.height = height;
    this.area = area;
    this.rowCount = Math.max(0, Math.floor((height * area) / this.rowUnit));
    for (const type of TRACK_TYPES) {
      const rows = this.rows[type];
      while (rows.length < this.rowCount) rows.push([]);
    }
  }

  /** Rows a comment of this height takes. */
  rowsFor(height) {
    return Math.max(1, Math.ceil(height / this.rowUnit));
  }

  /**
   * Find rows for `item` ({mode, w, h, start, duration, speed}) at time `now` and take them;
   * sets item.row and item.rows. Returns false (and takes nothing) when no rows are free.
   */
  place(item, now) {
    const span = this.rowsFor(item.h);
    const rows = this.rows[item.mode];
    for (let row = 0; row + span <= this.rowCount; row++) {
      let blockedAt = -1;
      for (let offset = span - 1; offset >= 0; offset--) {
        if (rows[row + offset].some((other) => this.conflicts(item, other, now))) {
          blockedAt = row + offset;
          break;
        }
      }
      if (blockedAt < 0) {
        item.row = row;
        item.rows = span;
        for (let offset = 0; offset < span; offset++) rows[row + offset].push(item);
        return true;
      }
      row = blockedAt; // no run of rows that includes the blocked one can work
    }
    return false;
  }

  /** Give back the rows of a placed item. */
  release(item) {
    if (item.row === undefined || item.row === null) return;
    const rows = this.rows[item.mode];
    for (let offset = 0; offset < item.rows; offset++) {
      const list = rows[item.row + offset];
      const index = list ? list.indexOf(item) : -1;
      if (index >= 0) list.splice(index, 1);
    }
    item.row = null;
  }

  clear() {
    for (const type of TRACK_TYPES) this.rows[type] = Array.from({ length: this.rowCount }, () => []);
  }

  /** Whether two items of one type would overlap at some moment from `now` on. */
  conflicts(a, b, now) {
    const from = Math.max(now, a.start, b.start);
    const until = Math.min(this.end(a), this.end(b));
    if (until <= from) return false;
    if (!MOVING.has(a.mode)) return true;
    // Ahead is whichever has travelled further (on a tie, the faster): usually the older one.
    const da = this.travelled(a, from);
    const db = this.travelled(b, from);
    const [front, back] = da > db || (da === db && a.speed >= b.speed) ? [a, b] : [b, a];
    const clearance = front.w + this.gap;
    const lead = (t) => this.travelled(front, t) - this.travelled(back, t);
    return lead(from) < clearance || lead(until) < clearance;
  }

  /** How far (px) a moving item's leading edge has travelled from where it entered. */
  travelled(item, t) {
    return (t - item.start) * item.speed;
  }

  /** When the item leaves the screen. */
  end(item) {
    if (MOVING.has(item.mode)) return item.start + (this.width + item.w) / item.speed;
    return item.start + item.duration;
  }

  /** Left edge at time t (CSS px). */
  x(item, t) {
    switch (item.mode) {
      case "scroll":
        return this.width - this.travelled(item, t);
      case "reverse":
        return this.travelled(item, t) - item.w;
      default:
        return (this.width - item.w) / 2;
    }
  }

  /** Top edge (CSS px): centred in its rows; `bottom` rows count up from the bottom. */
  y(item) {
    const band = item.rows * this.rowUnit;
    const inset = (band - item.h) / 2;
    if (item.mode === "bottom") return this.height - (item.row + item.rows) * this.rowUnit + inset;
    return item.row * this.rowUnit + inset;
  }
}
