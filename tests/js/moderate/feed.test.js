import assert from "node:assert/strict";
import { test } from "node:test";

import { setCatalog } from "../../../static/js/ui/i18n.js";
import { danmakuStyle } from "../../../static/js/moderate/feed.js";

test("a comment's style is named in the page's language, its colour as it is", () => {
  setCatalog(null);
  assert.equal(danmakuStyle({ mode: "scroll", size: "large", color: "#ffd302" }), "Scroll · Large · #ffd302");
  setCatalog({
    catalog: { "danmaku position\u0004Bottom": "下端", "danmaku size\u0004Small": "小" },
    plural: "0",
  });
  try {
    assert.equal(danmakuStyle({ mode: "bottom", size: "small", color: "#ffffff" }), "下端 · 小 · #ffffff");
    assert.equal(danmakuStyle({ mode: "sideways", size: "huge" }), "sideways · huge");
  } finally {
    setCatalog(null);
  }
});
