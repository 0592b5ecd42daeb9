import assert from "node:assert/strict";
import { test } from "node:test";

import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, Backoff } from "../../../static/js/client/backoff.js";

/** The largest delay each call can draw: a random() just below 1. */
function bounds(count, backoff = new Backoff({ random: () => 0.999999 })) {
  return Array.from({ length: count }, () => backoff.next());
}

test("the delay bound doubles from half a second up to the cap", () => {
  const delays = bounds(9);
  assert.deepEqual(
    delays,
    [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000].map((bound) => bound - 1),
  );
  assert.equal(BACKOFF_BASE_MS, 500);
  assert.equal(BACKOFF_CAP_MS, 30_000);
});

test("the delay is uniformly random below the bound (full jitter)", () => {
  const draws = [0, 0.25, 0.5];
  const backoff = new Backoff({ random: () => draws.shift() });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [0, 250, 1000]);
});

test("reset starts over from the base delay", () => {
  const backoff = new Backoff({ random: () => 0.999999 });
  bounds(5, backoff);
  backoff.reset();
  assert.equal(backoff.next(), 499);
});

test("a long outage neither overflows nor passes the cap", () => {
  const backoff = new Backoff({ random: () => 0.999999 });
  const delays = bounds(200, backoff);
  assert.ok(delays.every((delay) => Number.isFinite(delay) && delay < BACKOFF_CAP_MS));
});
