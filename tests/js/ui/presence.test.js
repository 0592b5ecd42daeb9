import assert from "node:assert/strict";
import { test } from "node:test";

import { renderPresence } from "../../../static/js/ui/presence.js";
import { byClass, element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

test("the count, the names listed, how many more, and the guests", (t) => {
  installGlobals(t, { document: fakeDom() });
  const parts = { count: element("span"), users: element("ul"), guests: element("p") };
  renderPresence(parts, { count: 7, guests: 2, users: [{ id: 1, name: "alice" }, { id: 2, name: "<b>bob</b>" }] });
  assert.equal(parts.count.textContent, "7");
  assert.deepEqual(parts.users.children.map((item) => item.textContent), ["alice", "<b>bob</b>", "and 3 more"]);
  assert.equal(parts.users.children[1].dataset.userId, "2");
  assert.equal(parts.guests.textContent, "2 guests");
  assert.equal(parts.guests.hidden, false);

  renderPresence(parts, { count: 1, guests: 0, users: [{ id: 1, name: "alice" }] });
  assert.deepEqual(parts.users.children.map((item) => item.textContent), ["alice"]);
  assert.equal(parts.guests.hidden, true);
  renderPresence(parts, { count: 1, guests: 1, users: [] });
  assert.equal(parts.guests.textContent, "1 guest");
});

test("each name is bidi-isolated, so its controls cannot reorder the list", (t) => {
  installGlobals(t, { document: fakeDom() });
  const parts = { count: element("span"), users: element("ul"), guests: element("p") };
  renderPresence(parts, { count: 2, guests: 0, users: [{ id: 1, name: "\u202eevil" }, { id: 2, name: "bob" }] });
  const names = parts.users.children.map((item) => item.children[0]);
  assert.deepEqual(
    names.map((name) => [name.tagName, name.textContent]),
    [
      ["BDI", "\u202eevil"],
      ["BDI", "bob"],
    ],
  );
});

test("a bot gets a badge beside its name, as text; others do not", (t) => {
  installGlobals(t, { document: fakeDom() });
  const parts = { count: element("span"), users: element("ul"), guests: element("p") };
  const users = [
    { id: 1, name: "alice" },
    { id: 9, name: "<img src=x>", bot: true },
    { id: 3, name: "carol", bot: "yes" },
  ];
  renderPresence(parts, { count: 3, guests: 0, users });
  const [human, bot, notBot] = parts.users.children;
  assert.deepEqual(byClass(human, "bot-badge"), []);
  assert.deepEqual(byClass(notBot, "bot-badge"), []);
  const [badge] = byClass(bot, "bot-badge");
  assert.equal(badge.textContent, "bot");
  assert.equal(bot.children[0].textContent, "<img src=x>");
  assert.equal(bot.children[0].children.length, 0); // the name stays text
  assert.equal(bot.dataset.userId, "9");
});
