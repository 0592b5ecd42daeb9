import assert from "node:assert/strict";
import { test } from "node:test";

import { fetchHistory, fetchLatestHistory, HistoryError } from "../../../static/js/client/history.js";
import { fakeFetch, htmlResponse, installGlobals, jsonResponse, settle } from "../fakes.js";

test("a page of history: the latest, or the one before a seq", async (t) => {
  const fetch = fakeFetch();
  installGlobals(t, { fetch });
  const latest = fetchHistory("/rooms/demo/history");
  (await fetch.waitFor(1)).respond(jsonResponse({ events: [], has_more: false, last_seq: 3 }));
  assert.deepEqual(await latest, { events: [], has_more: false, last_seq: 3 });
  const older = fetchHistory("/rooms/demo/history", { before: 40 });
  const request = await fetch.waitFor(2);
  assert.equal(request.url, "/rooms/demo/history?limit=50&before=40");
  request.respond(htmlResponse(500));
  await assert.rejects(older, HistoryError);
});

test("the latest page is tried five times, with growing pauses, before giving up", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const fetch = fakeFetch();
  installGlobals(t, { fetch });
  const latest = fetchLatestHistory("/rooms/demo/history", { backoff: { next: () => 1000 } });
  for (let attempt = 1; attempt <= 4; attempt++) {
    (await fetch.waitFor(attempt)).respond(htmlResponse(503));
    await settle();
    t.mock.timers.tick(1249);
    await settle();
    assert.equal(fetch.requests.length, attempt, "not before its pause");
    t.mock.timers.tick(1);
  }
  (await fetch.waitFor(5)).respond(jsonResponse({ message: "not a page" }));
  await assert.rejects(latest, HistoryError);
});

test("a retry that works is the answer", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const fetch = fakeFetch();
  installGlobals(t, { fetch });
  const latest = fetchLatestHistory("/rooms/demo/history", { backoff: { next: () => 0 } });
  (await fetch.waitFor(1)).fail(new TypeError("Failed to fetch"));
  await settle();
  t.mock.timers.tick(250);
  (await fetch.waitFor(2)).respond(jsonResponse({ events: [{ seq: 1 }], has_more: false, last_seq: 1 }));
  assert.equal((await latest).last_seq, 1);
});
