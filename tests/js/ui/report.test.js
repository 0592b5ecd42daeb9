import assert from "node:assert/strict";
import { test } from "node:test";

import { ReportForm, reportOutcome, sendReport } from "../../../static/js/ui/report.js";
import { byClass, element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

function setUp(t, send) {
  installGlobals(t, { document: fakeDom() });
  const parts = {
    form: element("form"),
    quote: element("p"),
    reason: element("input"),
    status: element("p"),
    cancel: element("button"),
  };
  parts.reason.value = "";
  parts.form.hidden = true;
  return { parts, form: new ReportForm(parts, { url: "/rooms/r/report", meId: 1, send }) };
}

test("other people's messages get a Report button; mine, system lines and guests' pages do not", (t) => {
  const { form } = setUp(t, async () => ({}));
  const lines = [
    [{ kind: "message", user: { id: 2, name: "bob" } }, 1],
    [{ kind: "message", user: { id: 1, name: "me" } }, 0],
    [{ kind: "system", user: null }, 0],
  ];
  for (const [event, buttons] of lines) {
    const item = element("li");
    form.decorate(item, event);
    assert.equal(byClass(item, "msg-report").length, buttons);
  }
  form.meId = null; // a guest
  const item = element("li");
  form.decorate(item, lines[0][0]);
  assert.equal(item.children.length, 0);
});

test("the quoted name and text are each bidi-isolated, so neither reorders the other", (t) => {
  const { parts, form } = setUp(t, async () => ({}));
  form.open({ id: 5, user: { id: 2, name: "\u202ebob" }, text: "\u2067hi" });
  assert.deepEqual(
    parts.quote.childNodes.map((node) => (typeof node === "string" ? node : [node.tagName, node.textContent])),
    [["BDI", "\u202ebob"], ": ", ["BDI", "\u2067hi"]],
  );
});

test("the form quotes the message as text, sends the reason and says how it went", async (t) => {
  const sent = [];
  const { parts, form } = setUp(t, async (url, id, reason) => {
    sent.push([url, id, reason]);
    return id === 5 ? { reported: true, id } : { code: "own_message", message: "no" };
  });
  form.open({ id: 5, user: { id: 2, name: "bob" }, text: "<b>spam</b>" });
  assert.equal(parts.form.hidden, false);
  assert.equal(parts.quote.textContent, "bob: <b>spam</b>");
  parts.reason.value = "  ads  ";
  await form.submit();
  assert.deepEqual(sent, [["/rooms/r/report", 5, "ads"]]);
  assert.equal(parts.status.textContent, "Reported. Thank you: the room's moderators will look at it.");
  form.open({ id: 6, user: { id: 2, name: "bob" }, text: "x" });
  parts.reason.value = "rude";
  await form.submit();
  assert.equal(parts.status.textContent, "You cannot report your own message.");
  assert.equal(parts.status.dataset.outcome, "error");
  parts.reason.value = "";
  await form.submit(); // nothing to send without a reason
  assert.equal(sent.length, 2);
});

test("sendReport posts JSON with the CSRF token and turns failures into codes", async (t) => {
  installGlobals(t, { document: { ...fakeDom(), cookie: "csrftoken=tok" } });
  const requests = [];
  const ok = await sendReport("/r", 5, "spam", async (url, init) => {
    requests.push([url, init.method, init.headers["X-CSRFToken"], init.body]);
    return { ok: true, status: 200, json: async () => ({ reported: true, id: 5 }) };
  });
  assert.deepEqual(ok, { reported: true, id: 5 });
  assert.deepEqual(requests, [["/r", "POST", "tok", '{"id":5,"reason":"spam"}']]);
  const limited = await sendReport("/r", 5, "spam", async () => ({
    ok: false,
    status: 429,
    json: async () => ({ code: "rate_limited", message: "Too many reports." }),
  }));
  assert.equal(reportOutcome(limited), "You have sent many reports; wait a minute before the next.");
  const broken = await sendReport("/r", 5, "spam", async () => ({ ok: false, status: 502, json: async () => null.x }));
  assert.equal(broken.code, "http_error");
  const offline = await sendReport("/r", 5, "spam", async () => {
    throw new TypeError("Failed to fetch");
  });
  assert.equal(offline.code, "network");
});
