import assert from "node:assert/strict";
import { test } from "node:test";

import { loadLocal, SettingsStore, STORAGE_KEY } from "../../../static/js/danmaku/settings-store.js";
import { fakeDocument, fakeFetch, installGlobals, jsonResponse, settle } from "../fakes.js";

function memoryStorage(initial = {}) {
  const values = new Map(Object.entries(initial));
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => values.set(key, String(value)),
    stored: () => JSON.parse(values.get(STORAGE_KEY) ?? "null"),
  };
}

const brokenStorage = {
  getItem() {
    throw new DOMException("disabled", "SecurityError");
  },
  setItem() {
    throw new DOMException("full", "QuotaExceededError");
  },
};

function record(store) {
  const seen = { changes: [], statuses: [] };
  store.addEventListener("change", (event) => seen.changes.push(event.detail));
  store.addEventListener("status", (event) => seen.statuses.push(event.detail));
  return seen;
}

test("a signed-in viewer's saved copy wins over this browser's, and becomes this browser's", () => {
  const storage = memoryStorage({ [STORAGE_KEY]: JSON.stringify({ speed: 2 }) });
  const store = new SettingsStore({ saved: { speed: 3, scale: 4 }, url: "/danmaku/settings", signedIn: true, storage });
  assert.equal(store.get().speed, 3);
  assert.equal(store.get().scale, 4);
  assert.equal(storage.stored().speed, 3);
  assert.equal(store.state, "saved");
});

test("without a saved copy, this browser's; without that, the defaults", () => {
  const storage = memoryStorage({ [STORAGE_KEY]: JSON.stringify({ opacity: 0.5 }) });
  assert.equal(new SettingsStore({ saved: {}, storage }).get().opacity, 0.5);
  assert.equal(new SettingsStore({ storage: memoryStorage() }).get().opacity, 1);
  assert.equal(loadLocal(memoryStorage({ [STORAGE_KEY]: "{broken" })), null);
});

test("a guest's change applies at once and stays in this browser", () => {
  const storage = memoryStorage();
  const store = new SettingsStore({ storage });
  const seen = record(store);
  store.update({ hidden_modes: ["top"], scale: 0.25 });
  assert.deepEqual(seen.changes.at(-1).hidden_modes, ["top"]);
  assert.equal(storage.stored().scale, 0.25);
  assert.deepEqual(seen.statuses, [{ state: "local", message: "" }]);
});

test("disabled storage does not stop the settings from applying", () => {
  const store = new SettingsStore({ storage: brokenStorage });
  store.update({ speed: 2 });
  assert.equal(store.get().speed, 2);
});

test("a signed-in viewer's burst of changes is saved once, shortly after the last", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const fetch = fakeFetch();
  installGlobals(t, { fetch, document: fakeDocument({ cookie: "csrftoken=tok" }) });
  const store = new SettingsStore({ url: "/danmaku/settings", signedIn: true, storage: memoryStorage() });
  const seen = record(store);
  for (const speed of [1.25, 1.5, 1.75, 2]) {
    store.update({ speed });
    t.mock.timers.tick(100);
  }
  assert.equal(store.state, "saving");
  t.mock.timers.tick(299);
  await settle();
  assert.equal(fetch.requests.length, 0);
  t.mock.timers.tick(1);
  const put = await fetch.waitFor(1);
  assert.equal(put.init.method, "PUT");
  assert.equal(put.init.headers["X-CSRFToken"], "tok");
  assert.equal(put.body.settings.speed, 2);
  put.respond(jsonResponse({ settings: put.body.settings }));
  await settle();
  assert.equal(fetch.requests.length, 1);
  assert.deepEqual(seen.statuses.at(-1), { state: "saved", message: "" });
});

test("a save the server refuses says why", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const fetch = fakeFetch();
  installGlobals(t, { fetch, document: fakeDocument() });
  const store = new SettingsStore({ url: "/danmaku/settings", signedIn: true, storage: memoryStorage() });
  const seen = record(store);
  store.update({ scale: 4 });
  t.mock.timers.tick(400);
  (await fetch.waitFor(1)).respond(
    jsonResponse({ code: "invalid_settings", message: "scale must be between 0.25 and 4." }, { status: 400 }),
  );
  await settle();
  assert.deepEqual(seen.statuses.at(-1), { state: "error", message: "scale must be between 0.25 and 4." });
  assert.equal(store.get().scale, 4); // it still applies here
});
