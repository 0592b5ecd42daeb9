import assert from "node:assert/strict";
import { test } from "node:test";

import { ManualClock } from "../../../static/js/danmaku/clock.js";
import { DanmakuRenderer } from "../../../static/js/danmaku/renderer.js";
import { fontPx } from "../../../static/js/danmaku/sprites.js";
import { RANGES } from "../../../static/js/danmaku/viewer-settings.js";
import { installGlobals } from "../fakes.js";
import { FakeCanvas } from "./fake-canvas.js";

function stage(t, options = {}) {
  installGlobals(t, { OffscreenCanvas: FakeCanvas });
  const clock = new ManualClock(0);
  const canvas = new FakeCanvas(1280, 720);
  const renderer = new DanmakuRenderer(canvas, { clock, autoStart: false, autoResize: false, ...options });
  renderer.resize(1280, 720);
  renderer.tick(); // the first frame starts the timeline (like a seek)
  return { renderer, clock, canvas };
}

let seq = 0;
function comment(fields = {}) {
  seq += 1;
  const style = { mode: "scroll", color: "#ffffff", size: "medium", video_ms: null };
  const user = { id: 2, name: "bob" };
  return { seq, id: seq, kind: "danmaku", text: `comment ${seq}`, ...style, user, ...fields };
}

function texts(renderer) {
  return renderer.snapshot().comments.map((shown) => shown.text);
}

test("a live comment shows on the next frame, at the right edge, and is drawn", (t) => {
  const { renderer, clock, canvas } = stage(t);
  renderer.apply([comment({ text: "hello" })]);
  clock.set(16);
  renderer.tick();
  const [shown] = renderer.snapshot().comments;
  assert.equal(shown.text, "hello");
  assert.ok(shown.x > 1270);
  assert.equal(canvas.context.drawn.length, 1);
});

test("the scale setting reaches 0.25 to 4 and no further, as in the settings panel", (t) => {
  const { renderer } = stage(t);
  renderer.configure({ scale: 4 });
  assert.equal(renderer.snapshot().view.scale, 4);
  renderer.configure({ scale: 10 });
  assert.equal(renderer.snapshot().view.scale, RANGES.scale[1]);
  renderer.configure({ scale: 0.1 });
  assert.equal(renderer.snapshot().view.scale, RANGES.scale[0]);
});

test("the scale changes the size comments are drawn at", (t) => {
  const { renderer, clock } = stage(t);
  renderer.configure({ scale: 2 });
  renderer.apply([comment({ size: "large" })]);
  clock.set(16);
  renderer.tick();
  assert.equal(renderer.snapshot().comments[0].h, Math.ceil(fontPx("large", 2) * 1.25));
});

test("the viewer's filters keep comments off the screen; their own comments pass", (t) => {
  const { renderer, clock } = stage(t, { meId: 7 });
  renderer.configure({ hidden_modes: ["top"], blocked_keywords: ["spoiler"] });
  renderer.apply([
    comment({ text: "on top", mode: "top" }),
    comment({ text: "big spoiler" }),
    comment({ text: "mine on top", mode: "top", user: { id: 7, name: "me" } }),
    comment({ text: "fine" }),
  ]);
  clock.set(16);
  renderer.tick();
  assert.deepEqual(texts(renderer).sort(), ["fine", "mine on top"]);
  assert.equal(renderer.stats().filtered, 2);
});

test("a deleted comment leaves the screen at once and never comes back; a clear empties it", (t) => {
  const { renderer, clock } = stage(t);
  const [doomed, kept] = [comment({ text: "doomed" }), comment({ text: "kept" })];
  renderer.apply([doomed, kept]);
  clock.set(16);
  renderer.tick();
  renderer.apply([{ seq: kept.seq + 1, kind: "delete", target: doomed.id }]);
  assert.deepEqual(texts(renderer), ["kept"]);
  renderer.push(doomed); // a late copy of it
  clock.set(32);
  renderer.tick();
  assert.deepEqual(texts(renderer), ["kept"]);
  renderer.apply([{ seq: kept.seq + 2, kind: "clear" }]);
  assert.deepEqual(texts(renderer), []);
});

test("turning comments off takes them off the screen", (t) => {
  const { renderer, clock } = stage(t);
  renderer.apply([comment()]);
  clock.set(16);
  renderer.tick();
  renderer.configure({ show: false });
  assert.deepEqual(texts(renderer), []);
});

test("a comment in a mode it does not draw is skipped, live and recorded; one without a mode scrolls", (t) => {
  const { renderer, clock } = stage(t);
  const bare = { text: "positioned without its fields", mode: "positioned" };
  renderer.apply([comment(bare), comment({ text: "plain", mode: undefined })]);
  renderer.schedule([comment({ ...bare, video_ms: 0 }), comment({ text: "later", mode: "fireworks", video_ms: 0 })]);
  clock.set(16);
  renderer.tick();
  assert.deepEqual(texts(renderer), ["plain"]);
  assert.equal(renderer.snapshot().comments[0].mode, "scroll");
  assert.deepEqual(renderer.snapshot().positioned, []);
});

const DRAWING = {
  x: 341,
  y: 219,
  relative: false,
  alpha: [1, 0.2],
  duration_ms: 4000,
  motion: { x: 0, y: 0, duration_ms: 1000, delay_ms: 500 },
  linear: true,
};

test("a positioned comment takes no rows: it shows at its place, moves, fades and leaves on time", (t) => {
  const { renderer, clock, canvas } = stage(t, { recorded: true });
  renderer.schedule([
    comment({ text: "fan\nart", mode: "positioned", positioned: { ...DRAWING, motion: { ...DRAWING.motion, x: 68.2, y: 43.8 } }, video_ms: 1000 }),
  ]);
  clock.set(1000);
  renderer.tick();
  let [shown] = renderer.snapshot().positioned;
  assert.equal(shown.text, "fan\nart");
  // 341, 219 of the 682×438 reference stage is the middle of a 1280×720 one.
  assert.deepEqual([shown.x, shown.y, shown.alpha], [640, 360, 1]);
  assert.equal(renderer.snapshot().comments.length, 0);
  assert.equal(shown.h, 2 * Math.ceil(Math.round(25 * Math.min(1280 / 682, 720 / 438)) * 1.25)); // two lines
  clock.set(3000); // past the motion's delay and duration: at its end, a tenth of the way
  renderer.tick();
  [shown] = renderer.snapshot().positioned;
  assert.deepEqual([Math.round(shown.x), Math.round(shown.y)], [128, 72]);
  assert.ok(Math.abs(shown.alpha - 0.6) < 1e-9);
  const drawn = canvas.context.drawn.at(-1);
  assert.ok(Math.abs(drawn.alpha - 0.6) < 1e-9);
  assert.deepEqual([drawn.x, drawn.y], [128, 72]); // at whole pixels, no transform
  assert.deepEqual(drawn.transform, [1, 0, 0, 1, 0, 0]);
  clock.set(5000); // its four seconds are over
  renderer.tick();
  assert.deepEqual(renderer.snapshot().positioned, []);
  assert.equal(canvas.context.drawn.length, 0);
});

test("a turned positioned comment is turned once, into its sprite, and copied without a transform", (t) => {
  const { renderer, clock, canvas } = stage(t);
  renderer.apply([comment({ mode: "positioned", positioned: { x: 0.5, y: 0.5, relative: true, duration_ms: 4000, rotate_z: 90 } })]);
  clock.set(16);
  renderer.tick();
  const [shown] = renderer.snapshot().positioned;
  const drawn = canvas.context.drawn.at(-1);
  // Turned a quarter about its top-left corner: the sprite's corner is its height to the left.
  assert.deepEqual([drawn.x, drawn.y], [Math.round(640 - shown.h), 360]);
  assert.deepEqual(drawn.transform, [1, 0, 0, 1, 0, 0]);
});

test("a seek shows a positioned comment mid-flight; a pause freezes it; a delete takes it away", (t) => {
  const { renderer, clock } = stage(t, { recorded: true });
  const event = comment({ mode: "positioned", positioned: DRAWING, video_ms: 10_000 });
  renderer.schedule([event]);
  clock.set(11_000); // a jump: rebuilt, 1 s into its life, half way through its motion
  renderer.tick();
  const [shown] = renderer.snapshot().positioned;
  assert.deepEqual([shown.x, shown.y], [320, 180]);
  renderer.tick(11_000); // the same time again: nothing moved
  assert.deepEqual(renderer.snapshot().positioned[0].x, shown.x);
  clock.set(20_000); // past its end
  renderer.tick();
  assert.deepEqual(renderer.snapshot().positioned, []);
  clock.set(10_500);
  renderer.tick();
  assert.equal(renderer.snapshot().positioned.length, 1);
  renderer.remove(event.id);
  renderer.tick(10_520);
  assert.deepEqual(renderer.snapshot().positioned, []);
});

test("positioned comments skip the density cap, and a live one is drawn too", (t) => {
  const { renderer, clock } = stage(t, { density: 1 });
  const many = Array.from({ length: 5 }, (_, index) =>
    comment({ mode: "positioned", positioned: { ...DRAWING, x: index * 10 } }),
  );
  renderer.apply([...many, comment({ text: "a" }), comment({ text: "b" })]);
  clock.set(16);
  renderer.tick();
  assert.equal(renderer.snapshot().positioned.length, 5);
  assert.equal(renderer.snapshot().comments.length, 1);
  assert.equal(renderer.stats().positioned, 5);
});

test("a subtitle (pool 1) is neither merged nor held back by the density cap", (t) => {
  const { renderer, clock } = stage(t, { density: 1 });
  renderer.configure({ merge_repeats: true });
  renderer.apply([
    comment({ text: "first", mode: "bottom" }),
    comment({ text: "subtitle line", mode: "bottom", pool: 1 }),
    comment({ text: "subtitle line", mode: "bottom", pool: 1 }),
  ]);
  clock.set(16);
  renderer.tick();
  // Both subtitles show (a cap of one comment on screen, merging on); the ordinary comment waits.
  assert.deepEqual(texts(renderer), ["subtitle line", "subtitle line"]);
});

test("an imported comment with line breaks takes as many rows as its lines", (t) => {
  const { renderer, clock } = stage(t);
  renderer.apply([comment({ text: "one" }), comment({ text: "two\nlines", mode: "top" })]);
  clock.set(16);
  renderer.tick();
  const [one, two] = renderer.snapshot().comments;
  assert.equal(two.text, "two\nlines");
  assert.equal(two.h, 2 * one.h);
  assert.ok(two.track.rows >= 2 * one.track.rows - 1);
});

test("merging on: repeats within the window are counted on the first, drawn once with ×N", (t) => {
  const { renderer, clock, canvas } = stage(t);
  renderer.configure({ merge_repeats: true });
  renderer.apply([comment({ text: "2333" }), comment({ text: "23333333" }), comment({ text: "ＡＢＣ" })]);
  clock.set(16);
  renderer.tick();
  renderer.apply([comment({ text: "2 3 3 3 3" })]);
  clock.set(2000);
  renderer.tick();
  const shown = renderer.snapshot().comments;
  assert.deepEqual(
    shown.map((each) => [each.text, each.count]),
    [
      ["2333", 3],
      ["ＡＢＣ", 1],
    ],
  );
  assert.equal(canvas.context.drawn.length, 2);
  assert.equal(renderer.stats().merged, 2);
});

test("merging on: the badge's room is kept from the start, so the width never changes", (t) => {
  const { renderer, clock } = stage(t);
  renderer.apply([comment({ text: "666" })]);
  clock.set(16);
  renderer.tick();
  const plain = renderer.snapshot().comments[0].w;
  renderer.configure({ merge_repeats: true });
  renderer.apply([comment({ text: "777" })]);
  clock.set(32);
  renderer.tick();
  const reserved = renderer.snapshot().comments.find((each) => each.text === "777");
  assert.ok(reserved.w > plain, "the width includes the slot for ×99+");
  renderer.apply([comment({ text: "7777" })]);
  clock.set(48);
  renderer.tick();
  const after = renderer.snapshot().comments.find((each) => each.text === "777");
  assert.equal(after.count, 2);
  assert.equal(after.w, reserved.w);
  // A comment placed before merging was on has no slot: its repeats are shown on their own.
  renderer.apply([comment({ text: "6666" })]);
  clock.set(64);
  renderer.tick();
  assert.equal(texts(renderer).filter((text) => text.startsWith("6")).length, 2);
});

test("merging off: every repeat is drawn", (t) => {
  const { renderer, clock, canvas } = stage(t);
  renderer.apply([comment({ text: "2333" }), comment({ text: "23333" }), comment({ text: "2333" })]);
  clock.set(16);
  renderer.tick();
  assert.equal(renderer.snapshot().comments.length, 3);
  assert.equal(canvas.context.drawn.length, 3);
  assert.ok(renderer.snapshot().comments.every((each) => each.count === 1));
});

test("merging on: after the window the same text is drawn again; deleting a repeat lowers the count", (t) => {
  const { renderer, clock } = stage(t);
  renderer.configure({ merge_repeats: true });
  const repeat = comment({ text: "hahaha" });
  renderer.apply([comment({ text: "haha haha" }), repeat]);
  clock.set(16);
  renderer.tick();
  assert.equal(renderer.snapshot().comments[0].count, 2);
  renderer.apply([{ seq: 999, kind: "delete", target: repeat.id }]);
  clock.set(32);
  renderer.tick();
  assert.equal(renderer.snapshot().comments[0].count, 1);
  for (const ms of [2000, 4000, 5100]) {
    clock.set(ms); // steps, not a jump (which would rebuild the screen)
    renderer.tick();
  }
  renderer.apply([comment({ text: "hahahaha" })]);
  clock.set(5116);
  renderer.tick();
  assert.equal(texts(renderer).length, 2);
});

test("merging on: the viewer's own repeat is always drawn", (t) => {
  const { renderer, clock } = stage(t, { meId: 7 });
  renderer.configure({ merge_repeats: true });
  renderer.apply([comment({ text: "666" }), comment({ text: "666", user: { id: 7, name: "me" } })]);
  clock.set(16);
  renderer.tick();
  assert.equal(texts(renderer).length, 2);
});

test("merging on: a seek shows the in-flight repeats merged", (t) => {
  const { renderer, clock } = stage(t, { recorded: true });
  renderer.configure({ merge_repeats: true });
  renderer.apply([
    comment({ text: "2333", video_ms: 10_000 }),
    comment({ text: "233333", video_ms: 11_000 }),
    comment({ text: "233", video_ms: 12_000 }),
  ]);
  clock.set(13_000);
  renderer.tick();
  const shown = renderer.snapshot().comments;
  assert.deepEqual(
    shown.map((each) => [each.text, each.count]),
    [["2333", 3]],
  );
});
