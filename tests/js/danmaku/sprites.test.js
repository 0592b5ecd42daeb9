import assert from "node:assert/strict";
import { test } from "node:test";

import {
  displayText,
  drawSprite,
  FONT_PX,
  fontPx,
  MAX_LINES,
  measure,
  Memo,
  normalColor,
  textLines,
  turnedSprite,
} from "../../../static/js/danmaku/sprites.js";
import { installGlobals } from "../fakes.js";
import { FakeCanvas } from "./fake-canvas.js";

test("control characters are drawn as spaces, markup as its characters", () => {
  assert.equal(displayText("bell\u0007null\u0000esc\u001b[31m"), "bell null esc [31m");
  assert.equal(displayText("line\u2028break\u0085"), "line break ");
  assert.equal(displayText('<img src=x onerror="1">'), '<img src=x onerror="1">');
  assert.equal(displayText(null), "");
});

test("a colour is #rrggbb in lower case; anything else is white", () => {
  assert.equal(normalColor("#FE0302"), "#fe0302");
  assert.equal(normalColor("red"), "#ffffff");
  assert.equal(normalColor("#fff"), "#ffffff");
  assert.equal(normalColor("#123456; background: url(x)"), "#ffffff");
});

test("the font size follows the comment's size and the viewer's scale", () => {
  assert.equal(fontPx("medium"), FONT_PX.medium);
  assert.equal(fontPx("large", 2), 72);
  assert.equal(fontPx("small", 0.25), 6); // never below 6 px
  assert.equal(fontPx("enormous"), FONT_PX.medium);
});

test("a comment is measured and drawn bidi-isolated: an open override ends with it", (t) => {
  const calls = [];
  class RecordingCanvas extends FakeCanvas {
    constructor(width, height) {
      super(width, height);
      for (const name of ["measureText", "strokeText", "fillText"]) {
        const original = this.context[name].bind(this.context);
        this.context[name] = (text, ...rest) => {
          calls.push([name, text]);
          return original(text, ...rest);
        };
      }
    }
  }
  installGlobals(t, { OffscreenCanvas: RecordingCanvas });
  const text = "\u202eevil";
  const box = measure(text, 25);
  drawSprite(text, { px: 25, w: box.w, h: box.h, color: "#ffffff" });
  assert.deepEqual(
    calls,
    [
      ["measureText", "\u2068\u202eevil\u2069"],
      ["strokeText", "\u2068\u202eevil\u2069"],
      ["fillText", "\u2068\u202eevil\u2069"],
    ],
  );
});

test("a line feed starts a new line; each line is cleaned; at most MAX_LINES", (t) => {
  installGlobals(t, { OffscreenCanvas: FakeCanvas });
  assert.deepEqual(textLines("fan\nart\r\nbell\u0007"), ["fan", "art", "bell "]);
  assert.equal(textLines("x\n".repeat(500)).length, MAX_LINES);
  const one = measure("wide line", 25);
  const two = measure("wide line\nx", 25);
  assert.equal(two.w, one.w); // the widest line
  assert.equal(two.h, 2 * one.h);
});

test("each line is drawn one line height under the other, without an outline when stroke is off", (t) => {
  const calls = [];
  class RecordingCanvas extends FakeCanvas {
    constructor(width, height) {
      super(width, height);
      for (const name of ["strokeText", "fillText"]) {
        this.context[name] = (text, x, y) => calls.push([name, text, y]);
      }
    }
  }
  installGlobals(t, { OffscreenCanvas: RecordingCanvas });
  const box = measure("a\nb", 20);
  drawSprite("a\nb", { px: 20, w: box.w, h: box.h, color: "#ffffff", stroke: false, font: 'Sim"Hei' });
  assert.deepEqual(calls, [
    ["fillText", "\u2068a\u2069", 12.5],
    ["fillText", "\u2068b\u2069", 37.5],
  ]);
});

test("a turned sprite holds the whole turned box; its corner says where it goes", (t) => {
  installGlobals(t, { OffscreenCanvas: FakeCanvas });
  const base = new FakeCanvas(200, 50);
  const quarter = turnedSprite(base, { w: 100, h: 25, rotate: Math.PI / 2, ratio: 2 });
  assert.deepEqual([quarter.ox, quarter.oy, quarter.sprite.width, quarter.sprite.height], [-25, 0, 50, 200]);
  const flat = turnedSprite(base, { w: 100, h: 25, scaleX: 0.5, ratio: 1 });
  assert.deepEqual([flat.ox, flat.oy, flat.sprite.width, flat.sprite.height], [0, 0, 50, 25]);
  const huge = turnedSprite(new FakeCanvas(4096, 4096), { w: 4096, h: 4096, rotate: Math.PI / 4 });
  assert.ok(huge.sprite.width <= 4096 && huge.sprite.height <= 4096);
});

test("a memo computes each key once and forgets its oldest keys past its limit", () => {
  const memo = new Memo(2);
  let computed = 0;
  const width = (text) =>
    memo.get(text, () => {
      computed += 1;
      return text.length * 10;
    });
  assert.equal(width("弾幕"), 20);
  assert.equal(width("弾幕"), 20);
  assert.equal(computed, 1);
  width("ab");
  width("abc"); // a third key: "弾幕", the oldest, is forgotten
  assert.equal(memo.values.size, 2);
  width("弾幕");
  assert.equal(computed, 4);
});
