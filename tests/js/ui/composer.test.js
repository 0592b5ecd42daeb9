import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomError } from "../../../static/js/client/answers.js";
import { wireComposer } from "../../../static/js/ui/composer.js";
import { element, fakeDom } from "../fake-dom.js";
import { installGlobals, settle } from "../fakes.js";

function setUp(t, { answers = [], noun = "message" } = {}) {
  installGlobals(t, { document: fakeDom(), window: { location: { pathname: "/rooms/demo/" } } });
  const form = element("form");
  const input = element("input");
  input.value = "";
  const error = element("p");
  error.hidden = true;
  const sent = [];
  const taken = [];
  const composer = wireComposer(form, {
    input,
    error,
    noun,
    send: (text) => {
      sent.push(text);
      const answer = answers.shift();
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    onSent: (answer) => taken.push(answer),
  });
  const submit = async (text) => {
    input.value = text;
    const event = new Event("submit", { cancelable: true });
    form.dispatchEvent(event);
    assert.equal(event.defaultPrevented, true); // the page never navigates away
    await settle();
  };
  return { form, input, error, sent, taken, submit, composer };
}

test("a post that was taken empties the input", async (t) => {
  const { input, error, sent, taken, submit } = setUp(t, { answers: [{ seq: 5, id: 1 }] });
  await submit("hello");
  assert.deepEqual(sent, ["hello"]);
  assert.deepEqual(taken, [{ seq: 5, id: 1 }]);
  assert.equal(input.value, "");
  assert.equal(error.hidden, true);
});

test("blank text is not sent", async (t) => {
  const { sent, submit } = setUp(t);
  await submit("   ");
  assert.deepEqual(sent, []);
});

test("a refused post keeps the text and says why, until the text is edited", async (t) => {
  const refusal = new RoomError("too_long", "The message is 612 characters.", { limit: 500 });
  const { input, error, taken, submit } = setUp(t, { answers: [refusal] });
  await submit("x".repeat(612));
  assert.equal(input.value, "x".repeat(612));
  assert.equal(error.hidden, false);
  assert.equal(error.textContent, "Message too long: the limit is 500 characters.");
  assert.deepEqual(taken, []);
  input.dispatchEvent(new Event("input"));
  assert.equal(error.hidden, true);
});

test("a held post is taken, and its author is told a moderator will review it", async (t) => {
  const notice = "A moderator will review your comment before it appears.";
  const held = { seq: null, id: null, held: true, message: notice };
  const { input, error, submit } = setUp(t, { answers: [held], noun: "comment" });
  await submit("may I?");
  assert.equal(input.value, "");
  assert.equal(error.hidden, false);
  assert.equal(error.textContent, notice);
});

test("a signed-out poster gets a link to log in and come back", async (t) => {
  const { error, submit } = setUp(t, { answers: [new RoomError("login_required", "Log in.")] });
  await submit("hi");
  const [link] = error.children;
  assert.equal(link.tagName, "A");
  assert.equal(link.href, "/accounts/login/?next=%2Frooms%2Fdemo%2F");
  assert.equal(error.textContent, "Log in to post. Log in");
});

test("a second Enter while the first post is on its way sends nothing more", async (t) => {
  installGlobals(t, { document: fakeDom() });
  let release;
  const form = element("form");
  const input = element("input");
  const error = element("p");
  const sent = [];
  wireComposer(form, {
    input,
    error,
    send: (text) => {
      sent.push(text);
      return new Promise((resolve) => {
        release = resolve;
      });
    },
  });
  input.value = "once";
  form.dispatchEvent(new Event("submit", { cancelable: true }));
  form.dispatchEvent(new Event("submit", { cancelable: true }));
  assert.equal(form.getAttribute("aria-busy"), "true");
  release({ seq: 1, id: 1 });
  await settle();
  assert.deepEqual(sent, ["once"]);
  assert.equal(form.getAttribute("aria-busy"), null);
});

test("a stale 'not connected' clears once the connection is live again; other refusals stay", async (t) => {
  const down = new RoomError("not_connected", "Not connected to the room.");
  const slow = new RoomError("slow_mode", "Slow mode: wait 5 s.");
  const { error, submit, composer } = setUp(t, { answers: [down, slow] });
  await submit("hello");
  assert.equal(error.hidden, false);
  assert.match(error.textContent, /Not connected/);
  composer.connected();
  assert.equal(error.hidden, true);
  await submit("hello");
  assert.equal(error.hidden, false);
  composer.connected();
  assert.equal(error.hidden, false); // still true after a reconnect: it stays
});
