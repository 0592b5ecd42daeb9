import assert from "node:assert/strict";
import { test } from "node:test";

import { Refresher } from "../../../static/js/moderate/refresher.js";

function parts() {
  const counts = { audit: 0, review: 0, state: 0, figures: 0, ticks: 0 };
  const counter = (name) => ({ refresh: () => counts[name]++ });
  const state = { refresh: () => counts.state++, tick: () => counts.ticks++ };
  const [audit, review, figures] = [counter("audit"), counter("review"), counter("figures")];
  const refresher = new Refresher({ audit, review, state, figures });
  return { counts, refresher };
}

test("a burst of room events re-reads the audit log once, and the state only when it changed", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { counts, refresher } = parts();
  refresher.eventsArrived([{ kind: "message" }, { kind: "danmaku" }]);
  t.mock.timers.tick(1000);
  assert.deepEqual([counts.audit, counts.state], [0, 0]);
  refresher.eventsArrived([{ kind: "delete" }]);
  refresher.eventsArrived([{ kind: "delete" }, { kind: "clear" }]);
  t.mock.timers.tick(249);
  assert.equal(counts.audit, 0);
  t.mock.timers.tick(1);
  assert.deepEqual([counts.audit, counts.state], [1, 0]);
  refresher.eventsArrived([{ kind: "delete" }]);
  refresher.eventsArrived([{ kind: "ban" }]);
  t.mock.timers.tick(250);
  assert.deepEqual([counts.audit, counts.state], [2, 1]);
});

test("the polled parts are re-read on their own schedules", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  const { counts, refresher } = parts();
  refresher.all();
  assert.deepEqual(counts, { audit: 1, review: 1, state: 1, figures: 1, ticks: 0 });
  refresher.poll();
  t.mock.timers.tick(30_000);
  assert.equal(counts.review, 1 + 6); // every 5 s
  assert.equal(counts.figures, 1 + 3); // every 10 s, with the sanctions' countdown
  assert.equal(counts.ticks, 3);
  assert.equal(counts.state, 1 + 1); // every 30 s
});
