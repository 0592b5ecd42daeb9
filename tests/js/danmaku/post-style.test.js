import assert from "node:assert/strict";
import { test } from "node:test";

import { cleanStyle, loadStyle, saveStyle, STYLE_KEY } from "../../../static/js/danmaku/post-style.js";

test("a remembered style keeps only what the composer offers", () => {
  assert.deepEqual(cleanStyle({ mode: "top", size: "large", color: "#fe0302" }), {
    mode: "top",
    size: "large",
    color: "#fe0302",
  });
  assert.deepEqual(cleanStyle({ mode: "sideways", size: "huge", color: "red" }), {});
  assert.deepEqual(cleanStyle(null), {});
});

test("the style is remembered in this browser, and storage trouble is no error", () => {
  const values = new Map();
  const storage = { getItem: (key) => values.get(key) ?? null, setItem: (key, value) => values.set(key, value) };
  saveStyle({ mode: "bottom", size: "small", color: "#00cd00" }, storage);
  assert.deepEqual(JSON.parse(values.get(STYLE_KEY)), { mode: "bottom", size: "small", color: "#00cd00" });
  assert.deepEqual(loadStyle(storage), { mode: "bottom", size: "small", color: "#00cd00" });
  values.set(STYLE_KEY, "{broken");
  assert.deepEqual(loadStyle(storage), {});
  const broken = {
    getItem() {
      throw new Error("disabled");
    },
    setItem() {
      throw new Error("full");
    },
  };
  assert.deepEqual(loadStyle(broken), {});
  saveStyle({ mode: "top" }, broken);
});
