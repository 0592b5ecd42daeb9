import assert from "node:assert/strict";
import { test } from "node:test";

import { ReviewQueue } from "../../../static/js/moderate/review.js";
import { byClass, element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

function queue() {
  const parts = { list: element("ol"), empty: element("p"), count: element("span") };
  const noop = () => {};
  return { parts, reviews: new ReviewQueue(parts, { get: noop, post: noop }, { onDecided: noop, onError: noop }) };
}

test("a held message by a bot shows the bot badge beside its author, as text", (t) => {
  installGlobals(t, { document: fakeDom() });
  const { parts, reviews } = queue();
  reviews.render([
    { id: 1, user: { id: 9, name: "quizbot", bot: true }, kind: "message", text: "<b>hi</b>", reason: "review_all" },
    { id: 2, user: { id: 7, name: "ann" }, kind: "message", text: "hello", reason: "review_all" },
  ]);
  const [byBot, byHuman] = parts.list.children;
  const [badge] = byClass(byBot, "bot-badge");
  assert.equal(badge.textContent, "bot");
  assert.equal(byClass(byBot, "review-author")[0].textContent, "quizbot");
  assert.deepEqual(byClass(byHuman, "bot-badge"), []);
  assert.equal(parts.count.textContent, "2");
});
