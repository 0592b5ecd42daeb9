import assert from "node:assert/strict";
import { test } from "node:test";

import { charsLeftText, wireCharsLeft } from "../../../static/js/ui/chars-left.js";
import { element } from "../fake-dom.js";

test("the count shows from 80% of the limit, counts code points, and says when over", () => {
  assert.equal(charsLeftText("a".repeat(399), 500), null);
  assert.equal(charsLeftText("a".repeat(400), 500), "100 characters left");
  assert.equal(charsLeftText("a".repeat(499), 500), "1 character left");
  assert.equal(charsLeftText("a".repeat(500), 500), "0 characters left");
  assert.equal(charsLeftText("a".repeat(501), 500), "1 character over the limit");
  assert.equal(charsLeftText("a".repeat(512), 500), "12 characters over the limit");
  // An emoji is one character for the server (one code point), two UTF-16 units here.
  assert.equal(charsLeftText("😀".repeat(450), 500), "50 characters left");
});

test("the counter follows the input, and the page can refresh it after sending", () => {
  const input = element("input");
  input.value = "";
  const output = element("p");
  const update = wireCharsLeft(input, output, 10);
  assert.equal(output.hidden, true);
  input.value = "a".repeat(9);
  input.dispatchEvent(new Event("input"));
  assert.equal(output.hidden, false);
  assert.equal(output.textContent, "1 character left");
  assert.equal(output.dataset.over, "false");
  input.value = "a".repeat(12);
  input.dispatchEvent(new Event("input"));
  assert.equal(output.textContent, "2 characters over the limit");
  assert.equal(output.dataset.over, "true");
  input.value = "";
  update();
  assert.equal(output.hidden, true);
});

test("without a usable limit the counter stays out of the way", () => {
  const input = element("input");
  const output = element("p");
  output.hidden = true;
  wireCharsLeft(input, output, Number(undefined))();
  assert.equal(output.hidden, true);
});
