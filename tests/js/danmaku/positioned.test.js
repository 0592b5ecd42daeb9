import assert from "node:assert/strict";
import { test } from "node:test";

import {
  alphaAt,
  DEFAULT_MOTION_MS,
  frameAt,
  lifetime,
  motionProgress,
  positionAt,
  REFERENCE_HEIGHT,
  REFERENCE_WIDTH,
  stageScale,
  toStage,
} from "../../../static/js/danmaku/positioned.js";

const close = (actual, expected) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test("reference pixels scale per axis to the stage; text by the smaller ratio; fractions of the stage", () => {
  assert.deepEqual([REFERENCE_WIDTH, REFERENCE_HEIGHT], [682, 438]);
  assert.deepEqual(stageScale(1364, 438), { x: 2, y: 1, text: 1 });
  assert.deepEqual(toStage(341, 219, false, 1364, 876), { x: 682, y: 438 });
  assert.deepEqual(toStage(0.25, 0.5, true, 1280, 720), { x: 320, y: 360 });
  assert.deepEqual(toStage(-10, 500, false, 682, 438), { x: -10, y: 500 }); // off the stage is allowed
});

test("alpha goes linearly from its first to its second value over the duration", () => {
  const fields = { alpha: [1, 0.2], duration_ms: 4000 };
  close(alphaAt(fields, 0), 1);
  close(alphaAt(fields, 2000), 0.6);
  close(alphaAt(fields, 4000), 0.2);
  close(alphaAt(fields, 9000), 0.2);
  close(alphaAt(fields, -100), 1);
  close(alphaAt({ duration_ms: 1000 }, 500), 1); // no alpha: opaque
  close(alphaAt({ alpha: [3, -1], duration_ms: 1000 }, 1000), 0); // out of range: clamped
});

test("a motion waits for its delay, then takes its duration: linear, or eased out", () => {
  const timing = { delay: 500, duration: 1000 };
  assert.equal(motionProgress(0, timing), 0);
  assert.equal(motionProgress(500, timing), 0);
  assert.equal(motionProgress(1000, { ...timing, linear: true }), 0.5);
  assert.equal(motionProgress(1000, timing), 0.75); // eased: further at half time
  assert.equal(motionProgress(1500, timing), 1);
  assert.equal(motionProgress(100, { delay: 0, duration: 0 }), 1);
  assert.equal(motionProgress(DEFAULT_MOTION_MS / 2, { linear: true }), 0.5);
});

test("the position at a time: start, along the motion, its end; a path goes through its points", () => {
  const fields = {
    x: 0.1,
    y: 0.1,
    relative: true,
    duration_ms: 5000,
    motion: { x: 0.5, y: 0.9, duration_ms: 2000, delay_ms: null },
    linear: true,
  };
  assert.deepEqual(positionAt(fields, 0, 1000, 500), { x: 100, y: 50 });
  const middle = positionAt(fields, 1000, 1000, 500);
  close(middle.x, 300);
  close(middle.y, 250);
  assert.deepEqual(positionAt(fields, 4000, 1000, 500), { x: 500, y: 450 });
  const path = { ...fields, relative: false, path: [[0, 0], [682, 0], [682, 438]] };
  assert.deepEqual(positionAt(path, 0, 682, 438), { x: 0, y: 0 });
  assert.deepEqual(positionAt(path, 1000, 682, 438), { x: 682, y: 0 }); // half the time: the middle point
  assert.deepEqual(positionAt(path, 2000, 1364, 876), { x: 1364, y: 876 });
  // Without a motion it stays put.
  assert.deepEqual(positionAt({ x: 10, y: 20, duration_ms: 1000 }, 900, 682, 438), { x: 10, y: 20 });
});

test("rotation Z in radians, rotation Y as the cosine of the width; the lifetime is bounded", () => {
  const frame = frameAt({ x: 0, y: 0, rotate_z: 90, rotate_y: 60, duration_ms: 1000 }, 0, 682, 438);
  close(frame.rotate, Math.PI / 2);
  close(frame.scaleX, 0.5);
  assert.equal(lifetime({ duration_ms: 4500 }), 4500);
  assert.equal(lifetime({ duration_ms: 10 ** 9 }), 60_000);
  assert.equal(lifetime({}), 4000);
});
