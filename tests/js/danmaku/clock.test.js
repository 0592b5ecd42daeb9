import assert from "node:assert/strict";
import { test } from "node:test";

import { ManualClock, VideoClock } from "../../../static/js/danmaku/clock.js";

test("a manual clock moves only when set, and a seek is a jump", () => {
  const clock = new ManualClock(100);
  assert.equal(clock.now(), 100);
  clock.set(200);
  assert.equal(clock.now(), 200);
  assert.equal(clock.generation, 0);
  clock.set(50_000, { seek: true });
  assert.equal(clock.generation, 1);
});

test("the video clock is the video's position; seeking and a new source are jumps", () => {
  const video = Object.assign(new EventTarget(), { currentTime: 12.5, paused: true });
  const clock = new VideoClock(video);
  assert.equal(clock.now(), 12_500);
  assert.equal(clock.paused, true);
  for (const name of ["seeking", "seeked", "emptied"]) video.dispatchEvent(new Event(name));
  assert.equal(clock.generation, 3);
  video.dispatchEvent(new Event("timeupdate"));
  assert.equal(clock.generation, 3);
});
