import assert from "node:assert/strict";
import { test } from "node:test";

import { DelayQueue, HELD_MAX } from "../../../static/js/danmaku/delay-queue.js";

function harness(delayMs) {
  const clock = { time: 0, timers: [] };
  const delivered = [];
  const queue = new DelayQueue(delayMs, (events) => delivered.push(...events), {
    now: () => clock.time,
    setTimer: (fn, ms) => {
      const timer = { fn, at: clock.time + ms };
      clock.timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => {
      clock.timers = clock.timers.filter((other) => other !== timer);
    },
  });
  const advance = (ms) => {
    clock.time += ms;
    for (const timer of clock.timers.filter((t) => t.at <= clock.time)) {
      clock.timers = clock.timers.filter((other) => other !== timer);
      timer.fn();
    }
  };
  return { queue, delivered, advance };
}

const comment = (id, seq = id) => ({ kind: "danmaku", id, seq, text: `c${id}` });

test("each comment waits the delay, then goes out in order", () => {
  const { queue, delivered, advance } = harness(10_000);
  queue.push([comment(1)]);
  advance(4_000);
  queue.push([comment(2)]);
  advance(5_999);
  assert.deepEqual(delivered, []);
  advance(1);
  assert.deepEqual(delivered.map((e) => e.id), [1]);
  advance(4_000);
  assert.deepEqual(delivered.map((e) => e.id), [1, 2]);
});

test("a delete within the delay means the comment is never shown", () => {
  const { queue, delivered, advance } = harness(10_000);
  queue.push([comment(1), comment(2)]);
  advance(3_000);
  queue.push([{ kind: "delete", seq: 3, target: 1 }]);
  assert.deepEqual(delivered.map((e) => e.kind), ["delete"]); // passes at once, for anything shown
  advance(7_000);
  assert.deepEqual(delivered.map((e) => e.id ?? e.kind), ["delete", 2]);
});

test("a clear drops everything waiting from before it", () => {
  const { queue, delivered, advance } = harness(5_000);
  queue.push([comment(1), comment(2), { kind: "clear", seq: 3 }, comment(4)]);
  advance(5_000);
  assert.deepEqual(delivered.map((e) => e.id ?? e.kind), ["clear", 4]);
});

test("no delay passes everything straight through", () => {
  const { queue, delivered } = harness(0);
  queue.push([comment(1)]);
  assert.deepEqual(delivered.map((e) => e.id), [1]);
});

test("what is held is bounded: past the bound the oldest go out early", () => {
  const { queue, delivered } = harness(60_000);
  queue.push(Array.from({ length: HELD_MAX + 3 }, (_, index) => comment(index + 1)));
  assert.deepEqual(delivered.map((e) => e.id), [1, 2, 3]);
  assert.equal(queue.held.length, HELD_MAX);
});
