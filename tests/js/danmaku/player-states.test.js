import assert from "node:assert/strict";
import { test } from "node:test";

import { failureReason, stateAfter, stateMessage } from "../../../static/js/danmaku/player-states.js";

test("a failed video names the reason, with the browser's own detail", () => {
  assert.match(failureReason({ code: 4, message: "" }), /does not answer with a video/);
  assert.equal(
    failureReason({ code: 2, message: "404: Not Found" }),
    "a network error interrupted it (404: Not Found)",
  );
  assert.equal(failureReason(null), "an unknown error");
  assert.equal(
    stateMessage("error", { code: 3, message: "" }),
    "The video could not be loaded: the file is damaged or in a format this browser cannot decode.",
  );
});

test("loading, buffering and ready follow the video's events", () => {
  assert.equal(stateAfter("loading", "loadedmetadata"), "ready");
  assert.equal(stateAfter("ready", "waiting"), "buffering");
  assert.equal(stateAfter("buffering", "playing"), "ready");
  assert.equal(stateAfter("ready", "timeupdate"), null);
  assert.equal(stateMessage("buffering"), "Buffering…");
  assert.equal(stateMessage("loading"), "Loading the video…");
  assert.equal(stateMessage("ready"), "");
});

test("a failure stays until the video loads anew", () => {
  assert.equal(stateAfter("loading", "error"), "error");
  for (const event of ["waiting", "canplay", "playing", "seeked"]) {
    assert.equal(stateAfter("error", event), null, event);
  }
  assert.equal(stateAfter("error", "loadstart"), "loading");
});
