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
  const positioned = { text: "drawn at a place", mode: "positioned", positioned: { x: 0.5, y: 0.5 } };
  renderer.apply([comment(positioned), comment({ text: "plain", mode: undefined })]);
  renderer.schedule([comment({ ...positioned, video_ms: 0 }), comment({ text: "later", mode: "fireworks", video_ms: 0 })]);
  clock.set(16);
  renderer.tick();
  assert.deepEqual(texts(renderer), ["plain"]);
  assert.equal(renderer.snapshot().comments[0].mode, "scroll");
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
