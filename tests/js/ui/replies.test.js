import assert from "node:assert/strict";
import { test } from "node:test";

import { ReplyDraft } from "../../../static/js/ui/replies.js";
import { byClass, element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

function setUp(t) {
  installGlobals(t, { document: fakeDom() });
  const parts = { bar: element("p"), label: element("span"), cancel: element("button"), input: element("input") };
  parts.bar.hidden = true;
  return { draft: new ReplyDraft(parts), parts };
}

const bobSays = { seq: 4, id: 40, kind: "message", user: { id: 2, name: "<b>bob</b>" }, text: "hi" };

test("Reply on a line says whom the composer replies to, and the next frame carries reply_to", (t) => {
  const { draft, parts } = setUp(t);
  const item = element("li");
  draft.decorate(item, bobSays);
  const [button] = byClass(item, "msg-reply");
  assert.equal(button.textContent, "Reply");
  assert.deepEqual(draft.fields(), {});
  button.dispatchEvent(new Event("click"));
  assert.equal(parts.bar.hidden, false);
  assert.equal(parts.label.textContent, "Replying to <b>bob</b>");
  assert.deepEqual(draft.fields(), { reply_to: 40 });
});

test("the name in 'Replying to' is bidi-isolated, so its controls cannot reorder the sentence", (t) => {
  const { draft, parts } = setUp(t);
  draft.start({ ...bobSays, user: { id: 2, name: "\u202ebob" } });
  assert.equal(parts.label.childNodes[0], "Replying to ");
  assert.deepEqual(
    parts.label.children.map((node) => [node.tagName, node.textContent]),
    [["BDI", "\u202ebob"]],
  );
});

test("Cancel, Escape, or the parent's deletion stop the reply", (t) => {
  const { draft, parts } = setUp(t);
  draft.start(bobSays);
  parts.cancel.dispatchEvent(new Event("click"));
  assert.equal(parts.bar.hidden, true);
  assert.deepEqual(draft.fields(), {});
  draft.start(bobSays);
  const escape = new Event("keydown");
  escape.key = "Escape";
  parts.input.dispatchEvent(escape);
  assert.deepEqual(draft.fields(), {});
  draft.start(bobSays);
  draft.forget(41);
  assert.deepEqual(draft.fields(), { reply_to: 40 });
  draft.forget(40);
  assert.deepEqual(draft.fields(), {});
  assert.equal(parts.bar.hidden, true);
});

test("no Reply on comments, system lines or messages without an id", (t) => {
  const { draft } = setUp(t);
  for (const event of [
    { ...bobSays, kind: "danmaku" },
    { ...bobSays, kind: "system", user: null },
    { ...bobSays, id: null },
  ]) {
    const item = element("li");
    draft.decorate(item, event);
    assert.equal(item.children.length, 0);
  }
});
