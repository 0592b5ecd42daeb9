import assert from "node:assert/strict";
import { test } from "node:test";

import { MessageList, PENDING_TEXT, REJECTED_TEXT, REMOVED_TEXT, delayedText } from "../../../static/js/ui/messages.js";
import { byClass, element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

function setUp(t, options = {}) {
  installGlobals(t, { document: fakeDom() });
  const list = element("ol");
  const empty = element("p");
  empty.hidden = true;
  const messages = new MessageList(list, element("div"), { empty, ...options });
  return { messages, list, empty };
}

function message(seq, fields = {}) {
  const user = { id: 2, name: "bob" };
  return { seq, id: seq * 10, kind: "message", text: `#${seq}`, user, ts: "2026-01-01T12:00:00Z", ...fields };
}

function shown(list) {
  return list.children.map((item) => Number(item.dataset.seq));
}

test("messages are listed by seq, each once, whatever order they come in", (t) => {
  const { messages, list } = setUp(t);
  messages.addHistory([message(3), message(1)]);
  messages.apply([message(5), message(3)]);
  messages.addHistory([message(2), message(4)], { older: true });
  assert.deepEqual(shown(list), [1, 2, 3, 4, 5]);
  assert.equal(messages.size, 5);
  assert.equal(messages.oldestSeq, 1);
});

test("user text is shown as text, with its author", (t) => {
  const { messages, list } = setUp(t, { meId: 2 });
  const hostile = '<img src=x onerror="alert(1)">';
  messages.apply([message(1, { text: hostile }), message(2, { kind: "system", text: "Welcome", user: null })]);
  const [mine, system] = list.children;
  assert.equal(byClass(mine, "msg-text")[0].textContent, hostile);
  assert.equal(byClass(mine, "msg-author")[0].textContent, "bob");
  assert.ok(mine.classList.contains("msg-mine"));
  assert.equal(byClass(system, "msg-author").length, 0);
  assert.equal(system.textContent.startsWith("Welcome"), true);
});

test("a bot's messages carry a bot badge; people's do not", (t) => {
  const { messages, list } = setUp(t);
  messages.apply([message(1), message(2, { user: { id: 9, name: "<b>beep</b>", bot: true } })]);
  const [person, bot] = list.children;
  assert.equal(byClass(person, "bot-badge").length, 0);
  assert.equal(byClass(bot, "bot-badge")[0].textContent, "bot");
  assert.equal(byClass(bot, "msg-author")[0].textContent, "<b>beep</b>");
});

test("names and messages are bidi-isolated, so their controls cannot reorder the line", (t) => {
  const { messages, list } = setUp(t);
  const user = { id: 3, name: "\u202eevil" };
  messages.apply([
    message(1, { user, text: "\u2067abc\u202d" }),
    message(2, { kind: "system", text: "\u202eWelcome", user: null }),
  ]);
  const [line, system] = list.children;
  const userText = [...byClass(line, "msg-author"), ...byClass(line, "msg-text"), ...byClass(system, "msg-text")];
  assert.deepEqual(
    userText.map((node) => node.tagName),
    ["BDI", "BDI", "BDI"],
  );
  assert.equal(byClass(line, "msg-author")[0].textContent, "\u202eevil");
  assert.equal(byClass(line, "msg-text")[0].textContent, "\u2067abc\u202d");
});

test("a deleted message goes, and does not come back with a late copy", (t) => {
  const { messages, list } = setUp(t);
  messages.apply([message(1), message(2)]);
  messages.apply([{ seq: 3, kind: "delete", target: 10 }]);
  assert.deepEqual(shown(list), [2]);
  messages.addHistory([message(1)]);
  messages.apply([message(4, { id: 40, deleted: true })]);
  assert.deepEqual(shown(list), [2]);
});

test("a clear empties the list and keeps out anything older that arrives later", (t) => {
  const { messages, list } = setUp(t);
  messages.apply([message(1), message(2), { seq: 3, kind: "clear" }]);
  assert.deepEqual(shown(list), []);
  messages.addHistory([message(2)]);
  messages.apply([message(4)]);
  assert.deepEqual(shown(list), [4]);
  messages.reset(); // after a stream reset, history may show again
  messages.addHistory([message(2)]);
  assert.deepEqual(shown(list), [2]);
});

test("the list can keep only its newest lines (the overlay's chat)", (t) => {
  const { messages, list } = setUp(t);
  messages.apply([1, 2, 3, 4, 5].map((seq) => message(seq)));
  messages.keepNewest(2);
  assert.deepEqual(shown(list), [4, 5]);
  assert.equal(messages.size, 2);
  messages.apply([message(3)]); // dropped lines are forgotten, not remembered as shown
  assert.deepEqual(shown(list), [3, 4, 5]);
  messages.apply([{ seq: 6, kind: "delete", target: 40 }]);
  assert.deepEqual(shown(list), [3, 5]);
});

test("the empty note shows only when nothing is listed", (t) => {
  const { messages, empty } = setUp(t);
  assert.equal(empty.hidden, true); // not before the page has loaded its history
  messages.updateEmptyNote();
  assert.equal(empty.hidden, false);
  messages.apply([message(1)]);
  assert.equal(empty.hidden, true);
  messages.apply([{ seq: 2, kind: "delete", target: 10 }]);
  assert.equal(empty.hidden, false);
});

test("events that are not shown (bans, settings) are ignored", (t) => {
  const { messages, list } = setUp(t);
  messages.apply([{ seq: 1, kind: "ban" }, { seq: 2, kind: "settings" }, message(3, { kind: "danmaku" })]);
  assert.deepEqual(shown(list), [3]);
});

test("a reader at the newest message stays there when the list's box shrinks; one scrolled up stays put", (t) => {
  const observers = [];
  class FakeResizeObserver {
    constructor(callback) {
      this.callback = callback;
      observers.push(this);
    }
    observe(target) {
      this.target = target;
    }
  }
  installGlobals(t, { document: fakeDom(), ResizeObserver: FakeResizeObserver });
  const scroller = element("div");
  Object.assign(scroller, { scrollHeight: 1000, clientHeight: 400, scrollTop: 600 });
  const messages = new MessageList(element("ol"), scroller);
  assert.equal(observers.length, 1);
  assert.equal(observers[0].target, scroller);
  // An error line appears under the list: its box is 60 px shorter, the newest message hidden.
  scroller.clientHeight = 340;
  observers[0].callback([]);
  assert.equal(scroller.scrollTop, scroller.scrollHeight);
  assert.equal(messages.isAtBottom(), true);
  // Scrolled up to read: a resize leaves the position alone.
  scroller.scrollTop = 100;
  scroller.dispatchEvent(new Event("scroll"));
  scroller.clientHeight = 300;
  observers[0].callback([]);
  assert.equal(scroller.scrollTop, 100);
});

function texts(list) {
  return list.children.map((item) => item.textContent);
}

test("a deleted message leaves 'removed by a moderator' where the room wants a trace", (t) => {
  const { messages, list } = setUp(t, { removedDisplay: "placeholder" });
  messages.apply([message(1), message(2)]);
  messages.apply([{ seq: 3, kind: "delete", target: 10, placeholder: true }]);
  assert.deepEqual(shown(list), [1, 2]);
  const [removed] = list.children;
  assert.equal(removed.dataset.removed, "true");
  assert.equal(byClass(removed, "msg-text")[0].textContent, REMOVED_TEXT);
  assert.equal(byClass(removed, "msg-author").length, 0); // no author left either
  // History and backlog bring deleted messages as such: a placeholder too, in its place.
  messages.addHistory([{ seq: 0.5, id: 5, kind: "message", user: null, text: "", deleted: true, ts: "2026-01-01T11:00:00Z" }]);
  assert.equal(list.children[0].dataset.removed, "true");
});

test("in a room that wants deletions to vanish, and on overlays, nothing is left", (t) => {
  const { messages, list } = setUp(t, { removedDisplay: "placeholder" });
  messages.apply([message(1), message(2), { seq: 3, kind: "settings", settings: { removed_display: "vanish" } }]);
  messages.apply([{ seq: 4, kind: "delete", target: 10 }]);
  assert.deepEqual(shown(list), [2]);
  const overlay = setUp(t); // no removedDisplay: always vanish
  overlay.messages.apply([message(1), { seq: 2, kind: "delete", target: 10, placeholder: true }]);
  assert.deepEqual(shown(overlay.list), []);
});

test("a purge removes every message its one event lists", (t) => {
  const { messages, list } = setUp(t, { removedDisplay: "placeholder" });
  messages.apply([message(1), message(2), message(3, { user: { id: 3, name: "cid" } })]);
  const purge = { seq: 4, kind: "ban", user: { id: 2, name: "bob" }, sanction: "timeout", placeholder: false };
  messages.apply([{ ...purge, removed: [{ id: 10, seq: 1 }, { id: 20, seq: 2 }] }]);
  assert.deepEqual(shown(list), [3]);
  messages.apply([message(1)]); // a late copy of a purged message stays out
  assert.deepEqual(shown(list), [3]);
});

test("my held message shows as pending, then as the message when approved", (t) => {
  const pending = element("ol");
  const { messages, list } = setUp(t, { pending, meId: 2 });
  messages.addPending(41, "<b>wait</b>");
  assert.deepEqual(texts(pending), [`<b>wait</b>${PENDING_TEXT}`]);
  messages.apply([message(5, { text: "<b>wait</b>", held_id: 41 })]);
  assert.deepEqual(pending.children, []);
  assert.deepEqual(texts(list).map((text) => text.startsWith("bob<b>wait</b>")), [true]);
});

test("my delayed message shows when it will appear, then as the message once released", (t) => {
  const pending = element("ol");
  const { messages, list } = setUp(t, { pending, meId: 2 });
  const releaseAt = "2026-12-05T08:30:15.000Z";
  messages.addPending(43, "soon", "pending", releaseAt);
  assert.deepEqual(texts(pending), [`soon${delayedText(releaseAt)}`]);
  assert.match(delayedText(releaseAt), /^pending: appears to everyone at .+ \(the room's chat delay\)$/);
  assert.equal(delayedText("not a time"), "pending: appears to everyone shortly (the room's chat delay)");
  assert.equal(pending.children[0].dataset.delayed, "true");
  messages.apply([message(8, { text: "soon", held_id: 43 })]);
  assert.deepEqual(pending.children, []);
  assert.deepEqual(shown(list), [8]);
});

test("my delayed message a moderator removed says it was not approved", (t) => {
  const pending = element("ol");
  const { messages, list } = setUp(t, { pending, meId: 2 });
  messages.addPending(44, "rude", "pending", "2026-12-05T08:30:15.000Z");
  messages.apply([{ seq: 9, kind: "review", user: null, text: "", held_id: 44, decision: "rejected" }]);
  assert.deepEqual(texts(pending), [`rude${REJECTED_TEXT}`]);
  assert.deepEqual(shown(list), []);
});

test("my rejected held message says so, and stays out of the room's list", (t) => {
  const pending = element("ol");
  const { messages, list } = setUp(t, { pending });
  messages.addPending(41, "nope");
  messages.addPending(42, "earlier", "rejected");
  messages.apply([{ seq: 6, kind: "review", user: null, text: "", held_id: 41, decision: "rejected" }]);
  assert.deepEqual(texts(pending), [`nope${REJECTED_TEXT}`, `earlier${REJECTED_TEXT}`]);
  assert.equal(pending.children[0].classList.contains("msg-rejected"), true);
  assert.deepEqual(shown(list), []);
  messages.apply([{ seq: 7, kind: "review", user: null, text: "", held_id: 99, decision: "rejected" }]);
  assert.equal(pending.children.length, 2); // someone else's: not ours to show
});

test("links in messages are links; a mention of the reader marks the line for the reader only", (t) => {
  const { messages, list } = setUp(t, { meName: "Ann" });
  messages.apply([
    message(1, { text: "see https://example.org/x and javascript:alert(1)" }),
    message(2, { text: "hey @ann look" }),
    message(3, { text: "hey @anne" }),
  ]);
  const [linked, mentioned, other] = list.children;
  const [link] = byClass(linked, "msg-link");
  assert.equal(link.href, "https://example.org/x");
  assert.equal(link.rel, "nofollow ugc noopener");
  assert.equal(byClass(linked, "msg-text")[0].textContent, "see https://example.org/x and javascript:alert(1)");
  assert.ok(mentioned.classList.contains("msg-mentions-me"));
  assert.equal(byClass(mentioned, "mention")[0].textContent, "@ann");
  assert.ok(!other.classList.contains("msg-mentions-me"));
});

test("the overlay's list (links: false) keeps addresses as text; system lines are never linked", (t) => {
  const { messages, list } = setUp(t, { links: false, meName: "ann" });
  messages.apply([message(1, { text: "https://example.org @ann" })]);
  assert.equal(byClass(list.children[0], "msg-link").length, 0);
  assert.equal(byClass(list.children[0], "mention").length, 0);
  const other = setUp(t);
  other.messages.apply([message(2, { kind: "system", user: null, text: "https://example.org" })]);
  assert.equal(byClass(other.list.children[0], "msg-link").length, 0);
});

function reply(seq, parent, fields = {}) {
  const reply_to = { id: parent.id, seq: parent.seq, user: parent.user, excerpt: parent.text };
  return message(seq, { user: { id: 3, name: "carol" }, text: `re ${parent.text}`, reply_to, ...fields });
}

test("a reply shows its parent's name and excerpt, as text; clicking it jumps to the parent", (t) => {
  const { messages, list } = setUp(t);
  const parent = message(1, { text: "<i>question</i>" });
  messages.apply([parent, reply(2, parent)]);
  const [parentLine, replyLine] = list.children;
  const [quote] = byClass(replyLine, "msg-reply-quote");
  assert.equal(byClass(quote, "msg-reply-author")[0].textContent, "bob");
  assert.equal(byClass(quote, "msg-reply-excerpt")[0].textContent, "<i>question</i>");
  // Read out before the reply itself: "In reply to bob: <i>question</i>." (the arrow is hidden).
  assert.equal(quote.textContent, "In reply to ↪bob:<i>question</i>.");
  assert.equal(quote.children[1].getAttribute("aria-hidden"), "true");
  assert.equal(replyLine.dataset.replyTo, "10");
  let scrolled = 0;
  parentLine.scrollIntoView = () => (scrolled += 1);
  quote.dispatchEvent(new Event("click"));
  assert.equal(scrolled, 1);
  assert.ok(parentLine.classList.contains("msg-jumped"));
  clearTimeout(parentLine.jumpTimer);
});

test("a reply whose parent is deleted, before or after it is shown, says the parent was removed", (t) => {
  const { messages, list } = setUp(t, { removedDisplay: "placeholder" });
  const parent = message(1);
  messages.apply([parent, reply(2, parent)]);
  messages.apply([{ seq: 3, kind: "delete", target: parent.id }]);
  const [quote] = byClass(list.children[1], "msg-reply-quote");
  assert.equal(quote.textContent, "↪In reply to a message that was removed.");
  assert.equal(quote.disabled, true);
  assert.ok(!quote.textContent.includes("#1"));
  // From history: the server already says so.
  const later = setUp(t);
  later.messages.addHistory([message(5, { reply_to: { id: 99, seq: 4, removed: true } })]);
  assert.equal(byClass(later.list.children[0], "msg-reply-quote")[0].dataset.removed, "true");
});

test("a parent not loaded is fetched through onMissingParent; one out of reach says it is not loaded", async (t) => {
  let asked = null;
  const { messages, list } = setUp(t, {
    onMissingParent: async (parent) => {
      asked = parent.seq;
      if (parent.seq === 1) messages.addHistory([message(1)], { older: true });
    },
  });
  messages.addHistory([reply(5, message(1)), reply(6, message(2, { id: 20 }))]);
  const [first, second] = list.children;
  await messages.jumpToParent(byClass(first, "msg-reply-quote")[0], { id: 10, seq: 1 });
  assert.equal(asked, 1);
  assert.ok(list.children[0].classList.contains("msg-jumped"));
  clearTimeout(list.children[0].jumpTimer);
  const quote = byClass(second, "msg-reply-quote")[0];
  await messages.jumpToParent(quote, { id: 20, seq: 2 });
  assert.equal(asked, 1); // seq 2 is within what is loaded (from 1): nothing older to fetch
  assert.equal(quote.dataset.missing, "true");
  assert.equal(byClass(second, "msg-reply-note")[0].textContent, "that message is no longer in the room's history");
});

test("consecutive messages of one person within five minutes show the name once", (t) => {
  const { messages, list } = setUp(t, { removedDisplay: "placeholder" });
  const at = (minute) => `2026-01-01T12:${String(minute).padStart(2, "0")}:00Z`;
  messages.addHistory([message(1, { ts: at(0) }), message(2, { ts: at(1) }), message(4, { ts: at(20) })]);
  messages.apply([
    message(5, { ts: at(21), user: { id: 3, name: "carol" } }),
    message(6, { ts: at(22), user: { id: 3, name: "carol" }, kind: "danmaku" }),
  ]);
  messages.addHistory([message(3, { ts: at(2) })], { older: true });
  const grouped = () => list.children.map((item) => item.classList.contains("msg-grouped"));
  // 1 starts; 2 and 3 follow within minutes; 4 comes 18 minutes later; 5 is carol; 6 a comment.
  assert.deepEqual(grouped(), [false, true, true, false, false, false]);
  // The name is still in a grouped line, for screen readers.
  assert.equal(byClass(list.children[1], "msg-author")[0].textContent, "bob");
  // A deleted message between two of bob's leaves its trace, which breaks the group.
  messages.apply([{ seq: 7, kind: "delete", target: 20 }]);
  assert.deepEqual(grouped(), [false, false, false, false, false, false]);
  // One that vanishes joins the lines around it.
  const vanish = setUp(t);
  vanish.messages.addHistory([message(1), message(2, { user: { id: 3, name: "carol" } }), message(3)]);
  vanish.messages.apply([{ seq: 8, kind: "delete", target: 20 }]);
  assert.deepEqual(
    vanish.list.children.map((item) => item.classList.contains("msg-grouped")),
    [false, true],
  );
});

test("a reply shows its author's name even right after their last message", (t) => {
  const { messages, list } = setUp(t);
  const parent = message(1);
  messages.apply([parent, message(2, { reply_to: { id: 10, seq: 1, user: parent.user, excerpt: "#1" } })]);
  assert.equal(list.children[1].classList.contains("msg-grouped"), false);
});

test("lines arriving while the reader is scrolled up are counted on the new-messages button", (t) => {
  installGlobals(t, { document: fakeDom() });
  const list = element("ol");
  const scroller = element("div");
  const newBelow = element("button");
  newBelow.hidden = true;
  const messages = new MessageList(list, scroller, { newBelow });
  Object.assign(scroller, { scrollHeight: 2000, clientHeight: 400, scrollTop: 1600 });
  messages.apply([message(1)]);
  assert.equal(newBelow.hidden, true); // at the bottom: it follows
  scroller.scrollTop = 200; // the reader scrolled up
  messages.apply([message(2), message(3)]);
  assert.equal(newBelow.hidden, false);
  assert.equal(newBelow.textContent, "2 new messages below");
  messages.apply([message(4)]);
  assert.equal(newBelow.textContent, "3 new messages below");
  messages.apply([{ seq: 5, kind: "delete", target: 10 }]); // nothing new
  assert.equal(newBelow.textContent, "3 new messages below");
  newBelow.dispatchEvent(new Event("click"));
  assert.equal(scroller.scrollTop, 2000);
  assert.equal(newBelow.hidden, true);
  // Scrolling down by hand hides it too.
  scroller.scrollTop = 0;
  messages.apply([message(6)]);
  assert.equal(newBelow.textContent, "1 new message below");
  scroller.scrollTop = 1600;
  scroller.dispatchEvent(new Event("scroll"));
  assert.equal(newBelow.hidden, true);
});
