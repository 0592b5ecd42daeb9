// No module of static/js shows a reader a string that did not come through the catalog
// (static/js/ui/i18n.js): a literal with words in it, written into an element's text or into a
// label a reader meets (title, placeholder, aria-label, alt), or into a dialog, is English on a
// Chinese or Japanese page. Such strings go through gettext, ngettext or pgettext.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "static", "js");

// A string or template literal: its quote, then its body.
const LITERAL = String.raw`(["'\x60])((?:\\.|(?!\1)[^\\])*)\1`;
const SINKS = [
  // element.textContent = "…", .title = "…", .placeholder = "…", .ariaLabel = "…", .alt = "…"
  new RegExp(String.raw`\.(?:textContent|innerText|title|placeholder|ariaLabel|alt|label)\s*=\s*` + LITERAL, "g"),
  // element.setAttribute("aria-label", "…") and the like
  new RegExp(String.raw`setAttribute\(\s*["'](?:aria-label|title|placeholder|alt)["']\s*,\s*` + LITERAL, "g"),
  // document.createTextNode("…"), new Option("…"), alert / confirm / prompt ("…")
  new RegExp(String.raw`(?:createTextNode|new Option|\balert|\bconfirm|\bprompt)\(\s*` + LITERAL, "g"),
];

function modules(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

/** Whether a literal's own text (not what its `${…}` parts compute) holds a word. */
export function hasWords(body) {
  return /[A-Za-z]{2}/.test(body.replace(/\$\{[^}]*\}/g, ""));
}

/** The literals with words in them that `source` writes where a reader sees them. */
export function shownLiterals(source) {
  const found = [];
  for (const sink of SINKS) {
    for (const match of source.matchAll(sink)) {
      const body = match[match.length - 1];
      if (hasWords(body)) found.push(body);
    }
  }
  return found;
}

test("the check sees literals written where readers see them, and nothing else", () => {
  assert.deepEqual(shownLiterals('remove.textContent = "Remove";'), ["Remove"]);
  assert.deepEqual(shownLiterals("badge.textContent = ` (${size} in the call)`;"), [" (${size} in the call)"]);
  assert.deepEqual(shownLiterals('button.setAttribute("aria-label", `Remove ${entry}`);'), ["Remove ${entry}"]);
  assert.deepEqual(shownLiterals('if (!confirm("Delete it?")) return;'), ["Delete it?"]);
  assert.deepEqual(shownLiterals('remove.textContent = gettext("Remove");'), []);
  assert.deepEqual(shownLiterals("time.textContent = `${formatTime(a)} / ${formatTime(b)}`;"), []);
  assert.deepEqual(shownLiterals('element.textContent = "";'), []);
  assert.deepEqual(shownLiterals('element.dataset.state = "live";'), []);
});

test("every string static/js shows a reader comes from the catalog", () => {
  const found = modules(ROOT).flatMap((path) =>
    shownLiterals(readFileSync(path, "utf8")).map((body) => `${relative(ROOT, path)}: ${body}`),
  );
  assert.deepEqual(found, []);
});
