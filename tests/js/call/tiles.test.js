import assert from "node:assert/strict";
import { test } from "node:test";

import { CallTiles } from "../../../static/js/call/tiles.js";
import { element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

const state = { audio: true, video: true, audio_muted: false, video_muted: false };

test("a tile's name is bidi-isolated, so its controls cannot reorder '(you)' or the tile", (t) => {
  installGlobals(t, { document: fakeDom() });
  const list = element("ul");
  const tiles = new CallTiles(list, element("p"));
  tiles.upsert({ id: "a1", user: { id: 1, name: "\u202eann" }, ...state }, true);
  tiles.upsert({ id: "b2", user: { id: 2, name: "<b>bob</b>" }, ...state }, false);
  const [mine, theirs] = list.children.map((item) => item.children.find((node) => node.dataset.testid === "tile-name"));
  assert.deepEqual(
    mine.childNodes.map((node) => (typeof node === "string" ? node : [node.tagName, node.textContent])),
    [["BDI", "\u202eann"], " (you)"],
  );
  assert.deepEqual(
    theirs.childNodes.map((node) => (typeof node === "string" ? node : [node.tagName, node.textContent])),
    [["BDI", "<b>bob</b>"]],
  );
  // An update writes the name again, still isolated, not a second copy.
  tiles.upsert({ id: "b2", user: { id: 2, name: "bob" }, ...state, audio_muted: true }, false);
  assert.deepEqual(theirs.children.map((node) => [node.tagName, node.textContent]), [["BDI", "bob"]]);
});
