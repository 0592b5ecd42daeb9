import assert from "node:assert/strict";
import { test } from "node:test";

import { roomPath } from "../../../static/js/client/protocol.js";

test("a room address encodes the slug and leaves out missing parameters", () => {
  assert.equal(roomPath("demo", "events"), "/rooms/demo/events");
  assert.equal(roomPath("a b/c", "poll", { after: 7, timeout: 25 }), "/rooms/a%20b%2Fc/poll?after=7&timeout=25");
  assert.equal(roomPath("demo", "events", { after: null, key: undefined }), "/rooms/demo/events");
});

test("a cursor of 0 is a cursor, not a missing one", () => {
  assert.equal(roomPath("demo", "events", { after: 0 }), "/rooms/demo/events?after=0");
});
