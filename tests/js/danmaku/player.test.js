import assert from "node:assert/strict";
import { test } from "node:test";

import { timeText } from "../../../static/js/danmaku/player.js";
import { setCatalog } from "../../../static/js/ui/i18n.js";

test("the bar's position and length read as the page's language writes them", (t) => {
  assert.equal(timeText(67, 3723), "1:07 / 1:02:03");
  assert.equal(timeText(0, Number.NaN), "0:00 / 0:00"); // length not known yet
  t.after(() => setCatalog(null));
  setCatalog({ catalog: { "player time\u0004%(position)s / %(duration)s": "%(duration)s 中 %(position)s" }, plural: "0" });
  assert.equal(timeText(67, 3723), "1:02:03 中 1:07");
});
