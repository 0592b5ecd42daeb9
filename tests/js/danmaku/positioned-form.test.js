import assert from "node:assert/strict";
import { test } from "node:test";

import { FormProblem, positionedFrame, stagePoint } from "../../../static/js/danmaku/positioned-form.js";
import { setCatalog } from "../../../static/js/ui/i18n.js";

const VALUES = {
  text: "fan\r\nart",
  x: "25",
  y: "50",
  duration: "4.5",
  alphaFrom: "1",
  alphaTo: "0.2",
  move: false,
  toX: "75",
  toY: "10",
  motionMs: "800",
  delayMs: "200",
};

test("a click is a fraction of the stage, inside it, never a whole number", () => {
  const rect = { left: 100, top: 50, width: 800, height: 450 };
  assert.deepEqual(stagePoint(300, 275, rect), { x: 0.25, y: 0.5 });
  assert.deepEqual(stagePoint(0, 9999, rect), { x: 0.0001, y: 0.9999 });
  assert.deepEqual(stagePoint(100, 50, { ...rect, width: 0, height: 0 }), { x: 0.5, y: 0.5 });
});

test("the form's values become a positioned danmaku frame in the server's wire form", () => {
  const frame = positionedFrame(VALUES, { style: { color: "#ff0000", size: "large", mode: "top" }, videoMs: 12_500 });
  assert.deepEqual(frame, {
    type: "danmaku",
    mode: "positioned",
    text: "fan\nart",
    video_ms: 12_500,
    color: "#ff0000",
    size: "large",
    positioned: { x: 0.25, y: 0.5, duration_ms: 4500, alpha: [1, 0.2] },
  });
  const moving = positionedFrame({ ...VALUES, move: true, x: "0", toX: "100" });
  assert.equal(moving.positioned.x, 0.0001); // 0 % would read as pixel 0: kept a fraction
  assert.deepEqual(moving.positioned.motion, { x: 0.9999, y: 0.1, duration_ms: 800, delay_ms: 200 });
  assert.equal(moving.positioned.linear, true);
  assert.equal(moving.video_ms, null);
});

test("values out of the server's bounds are refused before sending, naming the field", () => {
  const refused = (changes) => {
    try {
      positionedFrame({ ...VALUES, ...changes });
    } catch (problem) {
      assert.ok(problem instanceof FormProblem);
      return problem.field;
    }
    return null;
  };
  assert.equal(refused({ text: "  \n " }), "text");
  assert.equal(refused({ text: "x".repeat(1001) }), "text");
  assert.equal(refused({ text: "😀".repeat(1000) }), null); // characters, not UTF-16 units
  assert.equal(refused({ duration: "61" }), "duration");
  assert.equal(refused({ duration: "" }), "duration");
  assert.equal(refused({ x: "101" }), "x");
  assert.equal(refused({ alphaTo: "1.5" }), "alphaTo");
  assert.equal(refused({ move: true, motionMs: "-1" }), "motionMs");
  assert.equal(refused({ move: true, toY: "abc" }), "toY");
});

test("a refusal is a whole sentence naming the field and its bounds, in the page's language", (t) => {
  const message = (changes) => {
    try {
      positionedFrame({ ...VALUES, ...changes });
    } catch (problem) {
      return problem.message;
    }
    return null;
  };
  assert.equal(message({ duration: "61" }), "The duration must be a number of seconds from 0.1 to 60.");
  assert.equal(message({ move: true, toX: "-3" }), "The end's x must be a percentage from 0 to 100.");
  assert.equal(message({ text: "x".repeat(1001) }), "The text may be at most 1,000 characters.");
  t.after(() => setCatalog(null));
  setCatalog({
    catalog: {
      "The motion's delay must be a number of milliseconds from %(low)s to %(high)s.":
        "移動開始までの遅延は %(low)s〜%(high)s ミリ秒の数値で入力してください。",
      "Write the comment's text.": "弾幕の本文を入力してください。",
    },
    plural: "0",
  });
  assert.equal(
    message({ move: true, delayMs: "70000" }),
    "移動開始までの遅延は 0〜60,000 ミリ秒の数値で入力してください。",
  );
  assert.equal(message({ text: " " }), "弾幕の本文を入力してください。");
});
