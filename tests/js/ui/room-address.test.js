import assert from "node:assert/strict";
import { test } from "node:test";

import { ADDRESS_MAX, suggestAddress, wireAddressSuggestion } from "../../../static/js/ui/room-address.js";

test("an address from the title: lowercase, hyphens, accents off, no edges", () => {
  assert.equal(suggestAddress("Friday Movie Night"), "friday-movie-night");
  assert.equal(suggestAddress("  Café & Crêpes!! "), "cafe-crepes");
  assert.equal(suggestAddress("Ｆｕｌｌ width 2"), "full-width-2");
  assert.equal(suggestAddress("弾幕の部屋"), "");
  assert.equal(suggestAddress("--a--b--"), "a-b");
  const long = suggestAddress("word ".repeat(30));
  assert.ok(long.length <= ADDRESS_MAX);
  assert.match(long, /^[a-z0-9]+(-[a-z0-9]+)*$/);
});

function field(value = "") {
  const input = new EventTarget();
  input.value = value;
  input.type = (text) => {
    input.value = text;
    input.dispatchEvent(new Event("input"));
  };
  return input;
}

test("the address follows the title until it is typed in by hand", () => {
  const title = field();
  const address = field();
  wireAddressSuggestion(title, address);
  title.type("Movie Night");
  assert.equal(address.value, "movie-night");
  address.type("movies");
  title.type("Movie Night Club");
  assert.equal(address.value, "movies");
  address.type(""); // emptied: it follows again
  title.type("Quiz");
  assert.equal(address.value, "quiz");
});
