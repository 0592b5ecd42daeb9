import assert from "node:assert/strict";
import { test } from "node:test";

import { failureMessage, stateAfter, stateMessage } from "../../../static/js/danmaku/player-states.js";
import { setCatalog } from "../../../static/js/ui/i18n.js";

test("a failed video names the reason, with the browser's own detail", () => {
  assert.match(failureMessage({ code: 4, message: "" }), /does not answer with a video/);
  assert.equal(
    failureMessage({ code: 2, message: "404: Not Found" }),
    "The video could not be loaded: a network error interrupted it. (The browser says: 404: Not Found)",
  );
  assert.equal(failureMessage(null), "The video could not be loaded: an unknown error.");
  assert.equal(
    stateMessage("error", { code: 3, message: "" }),
    "The video could not be loaded: the file is damaged or in a format this browser cannot decode.",
  );
});

test("the player's states read in the page's language, the browser's detail kept as it is", (t) => {
  t.after(() => setCatalog(null));
  setCatalog({
    catalog: {
      "Buffering…": "缓冲中…",
      "The video could not be loaded: a network error interrupted it.": "视频无法加载：网络错误中断了加载。",
      "%(sentence)s (The browser says: %(detail)s)": "%(sentence)s（浏览器提示：%(detail)s）",
    },
    plural: "0",
  });
  assert.equal(stateMessage("buffering"), "缓冲中…");
  assert.equal(
    stateMessage("error", { code: 2, message: "404: Not Found" }),
    "视频无法加载：网络错误中断了加载。（浏览器提示：404: Not Found）",
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
