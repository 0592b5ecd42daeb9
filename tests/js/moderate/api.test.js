import assert from "node:assert/strict";
import { test } from "node:test";

import { ModApi, ModError } from "../../../static/js/moderate/api.js";
import { fakeDocument, fakeFetch, htmlResponse, installGlobals, jsonResponse } from "../fakes.js";

const URLS = { ban: "/rooms/demo/mod/ban", audit: "/rooms/demo/mod/audit", review_item: "/rooms/demo/mod/review/0" };

function setUp(t) {
  const fetch = fakeFetch();
  installGlobals(t, { fetch, document: fakeDocument({ cookie: "csrftoken=abc" }) });
  return { api: new ModApi(URLS), fetch };
}

test("a POST is JSON with the CSRF token; the answer is the server's JSON", async (t) => {
  const { api, fetch } = setUp(t);
  const answer = api.post("ban", { user: "bob", reason: "spam" });
  const request = await fetch.waitFor(1);
  assert.equal(request.url, "/rooms/demo/mod/ban");
  assert.equal(request.init.headers["X-CSRFToken"], "abc");
  assert.deepEqual(request.body, { user: "bob", reason: "spam" });
  request.respond(jsonResponse({ ok: true }));
  assert.deepEqual(await answer, { ok: true });
});

test("GET parameters leave out what is missing; a decision names the held message", async (t) => {
  const { api, fetch } = setUp(t);
  const page = api.get("audit", { before: 40, limit: 50, after: null });
  const audit = await fetch.waitFor(1);
  assert.equal(audit.url, "/rooms/demo/mod/audit?before=40&limit=50");
  assert.equal(audit.init.method, "GET");
  audit.respond(jsonResponse({ entries: [] }));
  assert.deepEqual(await page, { entries: [] });
  const decided = api.decide(17, true);
  const decision = await fetch.waitFor(2);
  assert.equal(decision.url, "/rooms/demo/mod/review/17");
  assert.deepEqual(decision.body, { approve: true });
  decision.respond(jsonResponse({ ok: true }));
  await decided;
});

test("a refusal is a ModError with the server's code, message and fields", async (t) => {
  const { api, fetch } = setUp(t);
  const answer = api.post("ban", { user: "nobody" });
  (await fetch.waitFor(1)).respond(
    jsonResponse({ code: "not_found", message: "There is no user 'nobody'.", field: "user" }, { status: 404 }),
  );
  await assert.rejects(answer, (error) => {
    assert.ok(error instanceof ModError);
    assert.equal(error.code, "not_found");
    assert.equal(error.message, "There is no user 'nobody'.");
    assert.equal(error.field, "user");
    assert.equal(error.status, 404);
    return true;
  });
});

test("Retry-After fills in retry_after; a page that is not JSON is named by its status", async (t) => {
  const { api, fetch } = setUp(t);
  const limited = api.post("ban", {});
  (await fetch.waitFor(1)).respond(
    jsonResponse({ code: "rate_limited", message: "Slow down." }, { status: 429, headers: { "Retry-After": "3" } }),
  );
  await assert.rejects(limited, { code: "rate_limited", retry_after: 3 });
  const expired = api.post("ban", {});
  (await fetch.waitFor(2)).respond(htmlResponse(401));
  await assert.rejects(expired, { code: "login_required", status: 401 });
  const proxy = api.post("ban", {});
  (await fetch.waitFor(3)).respond(htmlResponse(502));
  await assert.rejects(proxy, { code: "http_error", status: 502 });
});

test("an endpoint the page does not know is an error, not a request to 'undefined'", async (t) => {
  const { api, fetch } = setUp(t);
  assert.throws(() => api.post("launch"), { code: "no_endpoint" });
  assert.equal(fetch.requests.length, 0);
});

test("a network failure and a missing answer are told apart", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { api, fetch } = setUp(t);
  const offline = api.post("ban", {});
  (await fetch.waitFor(1)).fail(new TypeError("Failed to fetch"));
  await assert.rejects(offline, { code: "network" });
  const silent = api.post("ban", {});
  await fetch.waitFor(2);
  t.mock.timers.tick(15_000);
  await assert.rejects(silent, { code: "timeout" });
});
