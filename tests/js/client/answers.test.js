import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomError, sendError, sendResult } from "../../../static/js/client/answers.js";

test("an ack gives the message's seq and id", () => {
  assert.deepEqual(sendResult({ type: "ack", nonce: "n", seq: 5, id: 9 }), { seq: 5, id: 9 });
});

test("an ack for a held message keeps held and the server's words for the author", () => {
  const ack = { type: "ack", nonce: "n", held: true, message: "A moderator will review your message." };
  assert.deepEqual(sendResult(ack), { seq: null, id: null, held: true, message: ack.message });
});

test("an error frame becomes a RoomError with its code, message and other fields", () => {
  const error = sendError({ type: "error", nonce: "n", code: "muted", message: "Not now.", until: "2026-01-01T00:00:00Z" });
  assert.ok(error instanceof RoomError);
  assert.equal(error.code, "muted");
  assert.equal(error.message, "Not now.");
  assert.equal(error.until, "2026-01-01T00:00:00Z");
  assert.equal(error.nonce, undefined);
  assert.equal(sendError({ type: "error" }).code, "error");
});
