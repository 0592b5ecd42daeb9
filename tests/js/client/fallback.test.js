import assert from "node:assert/strict";
import { test } from "node:test";

import {
  FALLBACK_AFTER_FAILURES,
  PROVEN_FALLBACK_AFTER_FAILURES,
  PROVEN_UPGRADE_PROBE_MS,
  TransportLadder,
  UPGRADE_PROBE_MAX_MS,
  UPGRADE_PROBE_MS,
} from "../../../static/js/client/fallback.js";

const [ws, sse, poll] = ["WebSocket", "SSE", "polling"].map((name) => ({ name }));

function failTimes(ladder, transport, count) {
  let moved = null;
  for (let failure = 0; failure < count; failure++) moved = ladder.failed(transport) ?? moved;
  return moved;
}

test("two failures in a row move to the next transport, and after the last to the first", () => {
  const ladder = new TransportLadder([ws, sse, poll]);
  assert.equal(FALLBACK_AFTER_FAILURES, 2);
  assert.equal(ladder.failed(ws), null);
  assert.equal(ladder.failed(ws), sse);
  assert.equal(ladder.current, sse);
  assert.equal(failTimes(ladder, sse, 2), poll);
  assert.equal(failTimes(ladder, poll, 2), ws);
});

test("a hello in between starts the count over", () => {
  const ladder = new TransportLadder([ws, sse]);
  ladder.failed(ws);
  ladder.live(ws);
  assert.equal(ladder.failed(ws), null);
  assert.equal(ladder.current, ws);
});

test("a transport that was live here gets five failures", () => {
  const ladder = new TransportLadder([ws, sse]);
  ladder.live(ws);
  assert.equal(failTimes(ladder, ws, PROVEN_FALLBACK_AFTER_FAILURES - 1), null);
  assert.equal(ladder.failed(ws), sse);
});

test("a single transport is never left", () => {
  const ladder = new TransportLadder([sse]);
  assert.equal(failTimes(ladder, sse, 20), null);
  assert.equal(ladder.current, sse);
});

test("probes of better transports come only on a fallback, with jitter, less often each round", () => {
  const ladder = new TransportLadder([ws, sse, poll]);
  assert.equal(ladder.probeDelay(() => 0.5), null);
  failTimes(ladder, ws, 2);
  assert.equal(ladder.probeDelay(() => 0), UPGRADE_PROBE_MS / 2);
  assert.equal(ladder.probeDelay(() => 0.999999), UPGRADE_PROBE_MS - 1);
  ladder.probesFailed();
  assert.equal(ladder.probeDelay(() => 0), UPGRADE_PROBE_MS);
  for (let round = 0; round < 10; round++) ladder.probesFailed();
  assert.equal(ladder.probeDelay(() => 0.999999), UPGRADE_PROBE_MAX_MS - 1);
});

test("a probe that said hello moves attempts up and starts the probe delay over", () => {
  const ladder = new TransportLadder([ws, sse, poll]);
  failTimes(ladder, ws, 2);
  failTimes(ladder, sse, 2);
  ladder.probesFailed();
  ladder.adopt(sse);
  assert.equal(ladder.current, sse);
  assert.equal(ladder.probeDelay(() => 0), UPGRADE_PROBE_MS / 2);
  ladder.adopt(ws);
  assert.equal(ladder.probeDelay(() => 0), null);
});

test("left after it had been live (a server restart), the better transport is probed within seconds", () => {
  const ladder = new TransportLadder([ws, sse, poll]);
  ladder.live(ws);
  failTimes(ladder, ws, PROVEN_FALLBACK_AFTER_FAILURES);
  assert.equal(ladder.current, sse);
  ladder.live(sse);
  assert.equal(ladder.probeDelay(() => 0.999999), PROVEN_UPGRADE_PROBE_MS - 1);
  ladder.probesFailed(); // the server is not quite back: the usual doubling from there
  assert.equal(ladder.probeDelay(() => 0), PROVEN_UPGRADE_PROBE_MS);
  ladder.adopt(ws);
  assert.equal(ladder.probeDelay(() => 0), null);
  assert.ok(PROVEN_UPGRADE_PROBE_MS <= 10_000);
});

test("a transport never live here keeps the slow probes (a proxy that never passes it)", () => {
  const ladder = new TransportLadder([ws, sse, poll]);
  failTimes(ladder, ws, FALLBACK_AFTER_FAILURES);
  ladder.live(sse);
  assert.equal(ladder.probeDelay(() => 0), UPGRADE_PROBE_MS / 2);
  // Then SSE, which was live here, fails too: probing it from polling is quick again.
  failTimes(ladder, sse, PROVEN_FALLBACK_AFTER_FAILURES);
  assert.equal(ladder.current, poll);
  assert.equal(ladder.probeDelay(() => 0), PROVEN_UPGRADE_PROBE_MS / 2);
});
