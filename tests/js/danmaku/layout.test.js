import assert from "node:assert/strict";
import { test } from "node:test";

import { GAP_PX, isMoving, ROW_UNIT_PX, TrackLayout } from "../../../static/js/danmaku/layout.js";

/** A comment as the renderer hands it to the layout, entering at `start` (ms). */
function comment(mode, { w = 100, h = 25, start = 0, duration = 4000, width = 1000 } = {}) {
  const moving = isMoving(mode);
  const scrollMs = 8000;
  return { mode, w, h, start, duration: moving ? scrollMs : duration, speed: moving ? (width + w) / scrollMs : 0 };
}

function stage(width = 1000, height = 400, area = 1) {
  const layout = new TrackLayout();
  layout.resize(width, height, area);
  return layout;
}

test("the stage is cut into rows; the display area limits how many", () => {
  assert.equal(stage(1000, 400).rowCount, Math.floor(400 / ROW_UNIT_PX));
  assert.equal(stage(1000, 400, 0.25).rowCount, Math.floor(100 / ROW_UNIT_PX)); // whole rows only
  assert.equal(new TrackLayout().rowsFor(25), Math.ceil(25 / ROW_UNIT_PX));
});

test("fixed comments shown together stack downwards; bottom ones count up from the bottom", () => {
  const layout = stage();
  const first = comment("top");
  const second = comment("top");
  assert.ok(layout.place(first, 0));
  assert.ok(layout.place(second, 0));
  assert.equal(first.row, 0);
  assert.equal(second.row, first.rows);
  const bottom = comment("bottom", { h: 20 });
  assert.ok(layout.place(bottom, 0));
  assert.equal(bottom.row, 0);
  assert.equal(layout.y(bottom) + bottom.h <= 400, true);
  assert.ok(layout.y(bottom) > 400 - bottom.rows * ROW_UNIT_PX - 1);
  assert.equal(layout.x(first), (1000 - first.w) / 2);
});

test("a fixed comment's rows are free again once it has left", () => {
  const layout = stage();
  const first = comment("top", { duration: 4000 });
  layout.place(first, 0);
  const later = comment("top", { start: 4000 });
  assert.ok(layout.place(later, 4000));
  assert.equal(later.row, 0);
});

test("track types do not block each other", () => {
  const layout = stage();
  for (const mode of ["scroll", "reverse", "top", "bottom"]) {
    const item = comment(mode);
    assert.ok(layout.place(item, 0), mode);
    assert.equal(item.row, 0, mode);
  }
});

test("a scrolling comment right behind another in the same rows must keep the gap", () => {
  const layout = stage();
  const ahead = comment("scroll", { w: 200 });
  layout.place(ahead, 0);
  // Entering together would overlap: it goes one row band down.
  const together = comment("scroll", { w: 200 });
  layout.place(together, 0);
  assert.notEqual(together.row, ahead.row);
  // Once the first is its width plus the gap in, the same rows are free for one just as fast.
  const clearMs = (ahead.w + GAP_PX) / ahead.speed;
  const behind = comment("scroll", { w: 200, start: clearMs + 1 });
  assert.ok(layout.place(behind, clearMs + 1));
  assert.equal(behind.row, ahead.row);
});

test("a long, fast comment may not catch up with a short, slow one ahead of it", () => {
  const layout = stage(1000, 40);
  const slow = comment("scroll", { w: 50 });
  layout.place(slow, 0);
  const startMs = 2000; // the short one is well in by now
  const fast = comment("scroll", { w: 900, start: startMs });
  // Faster (longer text, same crossing time): it would reach the short one before that leaves.
  assert.ok(fast.speed > slow.speed);
  assert.ok(layout.conflicts(fast, slow, startMs));
  assert.equal(layout.place(fast, startMs), false); // every run of rows it fits crosses the slow one's
  // Once the short one has left, the same rows take it.
  const after = comment("scroll", { w: 900, start: layout.end(slow) });
  assert.ok(layout.place(after, layout.end(slow)));
});

test("no free rows: the comment is refused and takes nothing", () => {
  const layout = stage(1000, 2 * ROW_UNIT_PX);
  const tall = comment("top", { h: 2 * ROW_UNIT_PX });
  assert.ok(layout.place(tall, 0));
  const another = comment("top", { h: ROW_UNIT_PX });
  assert.equal(layout.place(another, 0), false);
  assert.equal(another.row, undefined);
  layout.release(tall);
  assert.ok(layout.place(another, 0));
});

test("positions follow the clock: scroll goes left, reverse goes right", () => {
  const layout = stage();
  const scroll = comment("scroll");
  const reverse = comment("reverse");
  layout.place(scroll, 0);
  layout.place(reverse, 0);
  assert.equal(layout.x(scroll, 0), 1000);
  assert.equal(layout.x(reverse, 0), -reverse.w);
  assert.ok(layout.x(scroll, 4000) < 1000 - 400);
  assert.ok(layout.x(reverse, 4000) > 400 - reverse.w);
  assert.ok(Math.abs(layout.end(scroll) - 8000) < 1e-6);
});
