import assert from "node:assert/strict";
import { test } from "node:test";

import { PendingSends, RoomError, sendError, sendResult } from "../../../static/js/client/answers.js";

test("an ack gives the message's seq and id", () => {
  assert.deepEqual(sendResult({ type: "ack", nonce: "n", seq: 5, id: 9 }), { seq: 5, id: 9 });
});

test("an ack for a held message keeps held and the server's words for the author", () => {
  const ack = { type: "ack", nonce: "n", held: true, held_id: 7, message: "A moderator will review your message." };
  assert.deepEqual(sendResult(ack), { seq: null, id: null, held: true, held_id: 7, message: ack.message });
});

test("an ack for a delayed message keeps when it will appear", () => {
  const ack = { type: "ack", nonce: "n", seq: null, id: null, held: true, held_id: 8, delayed: true, release_at: "2026-12-05T08:30:15Z", message: "Delayed." };
  assert.deepEqual(sendResult(ack), {
    seq: null,
    id: null,
    held: true,
    held_id: 8,
    message: "Delayed.",
    delayed: true,
    release_at: "2026-12-05T08:30:15Z",
  });
});

test("an error frame becomes a RoomError with its code, message and other fields", () => {
  const until = "2026-01-01T00:00:00Z";
  const error = sendError({ type: "error", nonce: "n", code: "muted", message: "Not now.", until });
  assert.ok(error instanceof RoomError);
  assert.equal(error.code, "muted");
  assert.equal(error.message, "Not now.");
  assert.equal(error.until, "2026-01-01T00:00:00Z");
  assert.equal(error.nonce, undefined);
  assert.equal(sendError({ type: "error" }).code, "error");
});

test("an answer settles the send with its nonce, whichever connection brought it", async () => {
  const sends = new PendingSends(15_000);
  const [first, second] = [sends.nextNonce(), sends.nextNonce()];
  assert.notEqual(first, second);
  const acked = sends.wait(first);
  const refused = sends.wait(second);
  assert.equal(sends.answer({ type: "ack", nonce: "not-ours", seq: 1, id: 1 }), false);
  assert.equal(sends.answer({ type: "events", nonce: first }), false);
  assert.equal(sends.answer({ type: "error", nonce: second, code: "empty", message: "Empty." }), true);
  assert.equal(sends.answer({ type: "ack", nonce: first, held: true, held_id: null, message: "Held." }), true);
  assert.equal(sends.answer({ type: "ack", nonce: first, seq: 2, id: 2 }), false); // answered already
  assert.deepEqual(await acked, { seq: null, id: null, held: true, held_id: null, message: "Held." });
  await assert.rejects(refused, { code: "empty", message: "Empty." });
  assert.equal(sends.size, 0);
});

test("a send nobody answers fails by itself; a lost connection fails them all", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const sends = new PendingSends(15_000);
  const silent = sends.wait(sends.nextNonce());
  t.mock.timers.tick(15_000);
  await assert.rejects(silent, { code: "timeout" });
  const lost = [sends.wait(sends.nextNonce()), sends.wait(sends.nextNonce())];
  sends.failAll("disconnected", "Lost.");
  for (const send of lost) await assert.rejects(send, { code: "disconnected", message: "Lost." });
  assert.equal(sends.size, 0);
});
