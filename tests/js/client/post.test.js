import assert from "node:assert/strict";
import { test } from "node:test";

import { canPost, csrfToken, postFrame } from "../../../static/js/client/post.js";
import { fakeDocument, fakeFetch, htmlResponse, installGlobals, jsonResponse } from "../fakes.js";

function setUp(t, documentOptions = { cookie: "theme=dark; csrftoken=tok%3Den" }) {
  const fetch = fakeFetch();
  installGlobals(t, { fetch, document: fakeDocument(documentOptions) });
  return fetch;
}

test("the CSRF token comes from its cookie, else from the page's hidden field", () => {
  assert.equal(csrfToken(fakeDocument({ cookie: "a=1; csrftoken=abc%3D; b=2" })), "abc=");
  assert.equal(csrfToken(fakeDocument({ cookie: "a=1", csrfField: "from-form" })), "from-form");
  assert.equal(csrfToken(fakeDocument()), null);
});

test("only messages and comments go over HTTP: a ping has no stream to keep alive", () => {
  assert.equal(canPost({ type: "message", text: "hi" }), true);
  assert.equal(canPost({ type: "danmaku", text: "hi" }), true);
  assert.equal(canPost({ type: "ping" }), false);
  assert.equal(canPost(null), false);
});

test("a message is posted as {text, nonce} with the CSRF token; the ack keeps the nonce", async (t) => {
  const fetch = setUp(t);
  const answer = postFrame("my room", { type: "message", text: "hello", nonce: "n-1" });
  const request = await fetch.waitFor(1);
  assert.equal(request.url, "/rooms/my%20room/messages");
  assert.equal(request.init.method, "POST");
  assert.equal(request.init.headers["X-CSRFToken"], "tok=en");
  assert.deepEqual(request.body, { text: "hello", nonce: "n-1" });
  request.respond(jsonResponse({ type: "ack", seq: 12, id: 5 }));
  assert.deepEqual(await answer, { type: "ack", seq: 12, id: 5, nonce: "n-1" });
});

test("a comment keeps its type and style in the body", async (t) => {
  const fetch = setUp(t);
  const frame = { type: "danmaku", text: "wow", mode: "top", color: "#ffffff", size: "large", video_ms: 300, nonce: 2 };
  const answer = postFrame("demo", frame);
  const request = await fetch.waitFor(1);
  assert.deepEqual(request.body, frame);
  request.respond(jsonResponse({ type: "ack", held: true, message: "A moderator will review it." }));
  assert.deepEqual(await answer, { type: "ack", held: true, message: "A moderator will review it.", nonce: 2 });
});

test("a refusal is the server's error frame, with Retry-After as retry_after", async (t) => {
  const fetch = setUp(t);
  const answer = postFrame("demo", { type: "message", text: "again", nonce: 3 });
  (await fetch.waitFor(1)).respond(
    jsonResponse(
      { type: "error", code: "rate_limited", message: "Slow down." },
      { status: 429, headers: { "Retry-After": "4" } },
    ),
  );
  assert.deepEqual(await answer, {
    type: "error",
    code: "rate_limited",
    message: "Slow down.",
    retry_after: 4,
    nonce: 3,
  });
});

test("an answer that is not JSON becomes an error frame by HTTP status", async (t) => {
  const cases = [
    [401, "login_required"],
    [403, "forbidden"],
    [404, "room_not_found"],
    [413, "too_long"],
    [502, "http_error"],
  ];
  const fetch = setUp(t);
  for (const [index, [status, code]] of cases.entries()) {
    const answer = postFrame("demo", { type: "message", text: "x", nonce: status });
    (await fetch.waitFor(index + 1)).respond(htmlResponse(status));
    const frame = await answer;
    assert.equal(frame.type, "error", status);
    assert.equal(frame.code, code, status);
    assert.equal(frame.nonce, status);
    assert.ok(frame.message.length > 0);
  }
});

test("a 200 the client cannot read is reported, not taken for an ack", async (t) => {
  const fetch = setUp(t);
  const answer = postFrame("demo", { type: "message", text: "x", nonce: 1 });
  (await fetch.waitFor(1)).respond(jsonResponse({ something: "else" }));
  assert.equal((await answer).code, "bad_answer");
});

test("a failed network says the message may not have been sent; it never rejects", async (t) => {
  const fetch = setUp(t);
  const answer = postFrame("demo", { type: "message", text: "x", nonce: 9 });
  (await fetch.waitFor(1)).fail(new TypeError("Failed to fetch"));
  assert.deepEqual(
    await answer,
    { type: "error", nonce: 9, code: "network", message: "The connection failed: the message may not have been sent." },
  );
});

test("a post with no answer in 15 s is abandoned as a timeout", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const fetch = setUp(t);
  const answer = postFrame("demo", { type: "message", text: "x", nonce: 1 });
  await fetch.waitFor(1);
  t.mock.timers.tick(14_999);
  t.mock.timers.tick(1);
  assert.equal((await answer).code, "timeout");
});

test("the client's own sentences for an answer that is not JSON are in the page's language", async (t) => {
  const { setCatalog } = await import("../../../static/js/ui/i18n.js");
  t.after(() => setCatalog(null));
  setCatalog({
    catalog: {
      "This room does not exist.": "このルームは存在しません。",
      "The server could not take the message (HTTP %(status)s).": "サーバーがメッセージを受け取れませんでした（HTTP %(status)s）。",
    },
    plural: "0",
  });
  const fetch = setUp(t);
  const missing = postFrame("gone", { type: "message", text: "hi", nonce: 1 });
  (await fetch.waitFor(1)).respond(htmlResponse(404));
  assert.deepEqual(await missing, { type: "error", nonce: 1, code: "room_not_found", message: "このルームは存在しません。" });
  const failed = postFrame("demo", { type: "message", text: "hi", nonce: 2 });
  (await fetch.waitFor(2)).respond(htmlResponse(502));
  const answer = await failed;
  assert.equal(answer.code, "http_error");
  assert.equal(answer.message, "サーバーがメッセージを受け取れませんでした（HTTP 502）。");
});
