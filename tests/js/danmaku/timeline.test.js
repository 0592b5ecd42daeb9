import assert from "node:assert/strict";
import { test } from "node:test";

import { Intervals, TimelineLoader } from "../../../static/js/danmaku/timeline.js";
import { fakeFetch, jsonResponse, settle } from "../fakes.js";

test("loaded spans merge, and the first gap is what is still missing", () => {
  const loaded = new Intervals();
  loaded.add(0, 1000);
  loaded.add(2000, 3000);
  assert.deepEqual(loaded.firstGap(0, 3000), [1000, 2000]);
  loaded.add(900, 2100);
  assert.deepEqual(loaded.spans, [[0, 3000]]);
  assert.equal(loaded.firstGap(500, 2500), null);
  assert.deepEqual(loaded.firstGap(2500, 4000), [3000, 4000]);
  loaded.add(5, 5); // empty: nothing
  assert.deepEqual(loaded.spans, [[0, 3000]]);
  loaded.clear();
  assert.deepEqual(loaded.firstGap(0, 10), [0, 10]);
});

function loader({ now = 0, durationMs = null, behindMs = 10_000 } = {}) {
  const fetcher = fakeFetch();
  const scheduled = [];
  const clock = { time: now, now() { return this.time; } };
  const timeline = new TimelineLoader({
    url: "/rooms/demo/danmaku",
    renderer: { schedule: (events) => scheduled.push(...events) },
    clock,
    durationMs,
    behindMs: () => behindMs,
    fetcher,
  });
  return { timeline, fetcher, scheduled, clock };
}

function span(request) {
  const query = new URL(request.url, "http://page").searchParams;
  return [Number(query.get("from_ms")), Number(query.get("to_ms"))];
}

test("it loads what is in flight behind the position and 20 s ahead, once", async () => {
  const { timeline, fetcher, scheduled, clock } = loader({ now: 61_000 });
  timeline.update();
  const first = await fetcher.waitFor(1);
  assert.deepEqual(span(first), [51_000, 81_000]);
  const events = [{ seq: 4, video_ms: 60_000, text: "late" }];
  first.respond(jsonResponse({ events, more: false }));
  await settle();
  assert.deepEqual(scheduled, events);
  timeline.update(); // nothing missing: no request
  await settle();
  assert.equal(fetcher.requests.length, 1);
  clock.time = 65_000; // playback moved on: only the new part
  timeline.update();
  assert.deepEqual(span(await fetcher.waitFor(2)), [81_000, 85_000]);
});

test("a long gap is fetched 60 s of video at a time, and never past the video's end", async () => {
  const { timeline, fetcher } = loader({ now: 0, behindMs: 0, durationMs: 10_000 });
  timeline.update();
  assert.deepEqual(span(await fetcher.waitFor(1)), [0, 10_001]);
  const far = loader({ now: 100_000, behindMs: 50_000 });
  far.timeline.update();
  assert.deepEqual(span(await far.fetcher.waitFor(1)), [50_000, 110_000]);
});

test("an answer cut short by the limit continues from its last position", async () => {
  const { timeline, fetcher } = loader({ now: 0, behindMs: 0 });
  timeline.update();
  const events = [{ seq: 1, video_ms: 100 }, { seq: 2, video_ms: 4000 }];
  (await fetcher.waitFor(1)).respond(jsonResponse({ events, more: true }));
  assert.deepEqual(span(await fetcher.waitFor(2)), [4000, 20_000]);
});

test("after a reset, answers to older requests are ignored and everything loads again", async () => {
  const { timeline, fetcher, scheduled } = loader({ now: 0, behindMs: 0 });
  timeline.update();
  const stale = await fetcher.waitFor(1);
  timeline.reset();
  const fresh = await fetcher.waitFor(2);
  stale.respond(jsonResponse({ events: [{ seq: 1, video_ms: 5 }], more: false }));
  await settle();
  assert.deepEqual(scheduled, []);
  fresh.respond(jsonResponse({ events: [{ seq: 2, video_ms: 6 }], more: false }));
  await settle();
  assert.deepEqual(scheduled.map((event) => event.seq), [2]);
});

test("a failed request is retried after a backoff, not at once", async (t) => {
  t.mock.method(console, "warn", () => {});
  const { timeline, fetcher } = loader({ now: 0, behindMs: 0 });
  timeline.update();
  (await fetcher.waitFor(1)).respond(jsonResponse({ message: "down" }, { status: 503 }));
  await settle();
  timeline.update();
  await settle();
  assert.equal(fetcher.requests.length, 1);
  assert.ok(timeline.retryAt > performance.now());
});
