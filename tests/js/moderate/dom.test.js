import assert from "node:assert/strict";
import { test } from "node:test";

import { formatDuration, toDate } from "../../../static/js/moderate/dom.js";

test("lengths of time read roughly, in the largest units that fit", () => {
  assert.equal(formatDuration(45), "45 s");
  assert.equal(formatDuration(300), "5 min");
  assert.equal(formatDuration(3600), "1 h");
  assert.equal(formatDuration(9000), "2 h 30 min");
  assert.equal(formatDuration(86_400 * 3 + 3600 * 4), "3 d 4 h");
  assert.equal(formatDuration(-5), "0 s");
});

test("a moment is an ISO string or a Unix time in seconds or milliseconds", () => {
  const moment = Date.UTC(2026, 0, 2, 3, 4, 5);
  assert.equal(toDate("2026-01-02T03:04:05Z").getTime(), moment);
  assert.equal(toDate(moment / 1000).getTime(), moment);
  assert.equal(toDate(moment).getTime(), moment);
  for (const unusable of [null, undefined, "", "soon"]) assert.equal(toDate(unusable), null, String(unusable));
});
