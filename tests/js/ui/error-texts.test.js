import assert from "node:assert/strict";
import { test } from "node:test";

import { loginAddress, postingErrorText, requestErrorText } from "../../../static/js/ui/error-texts.js";

test("a refused post is explained in words about what was sent", () => {
  assert.equal(postingErrorText({ code: "empty" }), "The message is empty.");
  assert.equal(postingErrorText({ code: "empty" }, { noun: "comment" }), "The comment is empty.");
  assert.equal(
    postingErrorText({ code: "too_long", limit: 500 }),
    "Message too long: the limit is 500 characters.",
  );
  assert.equal(postingErrorText({ code: "too_long" }, { noun: "comment" }), "Comment too long.");
  assert.equal(
    postingErrorText({ code: "timeout" }, { noun: "comment" }),
    "No answer from the server: the comment may not have been sent.",
  );
});

test("waits are rounded up to whole seconds", () => {
  assert.equal(
    postingErrorText({ code: "rate_limited", retry_after: 2.1 }),
    "You are sending too fast; try again in 3 s.",
  );
  assert.equal(postingErrorText({ code: "rate_limited" }), "You are sending too fast; wait a moment.");
  assert.equal(
    postingErrorText({ code: "slow_mode", retry_after: 0.2 }),
    "Slow mode is on: you can post again in 1 s.",
  );
});

test("a timeout says until when, in the viewer's own time", () => {
  const until = "2026-03-04T05:06:07Z";
  assert.equal(
    postingErrorText({ code: "muted", until }),
    `You are timed out in this room until ${new Date(until).toLocaleTimeString()}.`,
  );
  assert.equal(postingErrorText({ code: "muted" }), "You are timed out in this room.");
});

test("a held post shows the server's words, or says the same without them", () => {
  assert.equal(postingErrorText({ code: "held", message: "Wait for it." }), "Wait for it.");
  assert.equal(
    postingErrorText({ code: "held" }, { noun: "comment" }),
    "A moderator will review your comment before it appears.",
  );
});

test("a code without a text shows the server's message, or a plain sentence", () => {
  assert.equal(postingErrorText({ code: "new_code", message: "Something new." }), "Something new.");
  assert.equal(postingErrorText({ code: "new_code" }, { noun: "comment" }), "The comment could not be sent.");
});

test("a moderator's refused action keeps the server's message, except what any request shares", () => {
  assert.equal(
    requestErrorText({ code: "not_found", message: "There is no user 'x'." }),
    "There is no user 'x'.",
  );
  assert.equal(
    requestErrorText({ code: "csrf_failed", message: "CSRF" }),
    "The page's security token is stale; reload the page.",
  );
  assert.equal(
    requestErrorText({ code: "rate_limited", retry_after: 4 }),
    "You are sending too fast; try again in 4 s.",
  );
  assert.equal(
    requestErrorText({ code: "login_required", message: "Your session has ended." }),
    "Your session has ended.",
  );
  assert.equal(requestErrorText({ code: "odd" }), "odd");
});

test("the login link comes back to the page", () => {
  assert.equal(loginAddress("/rooms/a b/"), "/accounts/login/?next=%2Frooms%2Fa%20b%2F");
});

test("unique chat's refusal says what to do", () => {
  assert.equal(
    postingErrorText({ code: "unique_chat", retry_after: 12 }),
    "Unique chat is on: someone just sent that message. Say something new, or wait 12 s.",
  );
});

test("too many messages waiting for the chat delay: when to try again", () => {
  assert.equal(
    postingErrorText({ code: "too_many_pending", retry_after: 10 }),
    "Too many messages are waiting for this room's delay. Try again in 10 s.",
  );
  assert.equal(
    postingErrorText({ code: "too_many_pending", retry_after: 10 }, { noun: "comment" }),
    "Too many comments are waiting for this room's delay. Try again in 10 s.",
  );
});

test("the sentences come from the page's catalog, each noun its own, with the numbers filled in", async (t) => {
  const { setCatalog } = await import("../../../static/js/ui/i18n.js");
  t.after(() => setCatalog(null));
  setCatalog({
    catalog: {
      "The comment is empty.": "弾幕が空です。",
      "The message is empty.": "メッセージが空です。",
      "Slow mode is on: you can post again in %(seconds)s s.": "スローモード中です。%(seconds)s 秒後にまた投稿できます。",
    },
    plural: "0",
  });
  assert.equal(postingErrorText({ code: "empty" }, { noun: "comment" }), "弾幕が空です。");
  assert.equal(postingErrorText({ code: "empty" }), "メッセージが空です。");
  assert.equal(postingErrorText({ code: "slow_mode", retry_after: 2.2 }), "スローモード中です。3 秒後にまた投稿できます。");
  assert.equal(postingErrorText({ code: "banned" }), "You are banned from this room."); // not in this catalog
});
