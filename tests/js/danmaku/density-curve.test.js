import assert from "node:assert/strict";
import { test } from "node:test";

import { DensityCurve, columns } from "../../../static/js/danmaku/density-curve.js";

test("heights are relative to the busiest bucket", () => {
  const curve = new DensityCurve({ bucket_ms: 1000, counts: [4, 0, 2, 1] });
  assert.deepEqual(curve.heights(), [1, 0, 0.5, 0.25]);
  assert.deepEqual(new DensityCurve({ bucket_ms: 1000, counts: [0, 0] }).heights(), [0, 0]);
});

test("a comment that arrives counts in its bucket, or the last one past the end", () => {
  const curve = new DensityCurve({ bucket_ms: 1000, counts: [0, 0, 0] });
  assert.equal(curve.add(1500), true);
  assert.equal(curve.add(2999), true);
  assert.equal(curve.add(60_000), true);
  assert.deepEqual(curve.counts, [0, 1, 2]);
  assert.equal(curve.add(null), false); // a live comment has no position
  assert.equal(curve.add(-1), false);
});

test("a room without a recorded video has no curve to add to", () => {
  const curve = new DensityCurve({ bucket_ms: null, counts: [] });
  assert.equal(curve.empty, true);
  assert.equal(curve.add(10), false);
  assert.deepEqual(curve.heights(), []);
});

test("columns fill the bar's width, bottom-aligned, one per bucket", () => {
  assert.deepEqual(columns([1, 0, 0.5, 0.25], 100, 20), [
    { x: 0, y: 0, w: 25, h: 20 },
    { x: 25, y: 20, w: 25, h: 0 },
    { x: 50, y: 10, w: 25, h: 10 },
    { x: 75, y: 15, w: 25, h: 5 },
  ]);
  assert.deepEqual(columns([], 100, 20), []);
});
