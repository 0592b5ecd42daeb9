import assert from "node:assert/strict";
import { test } from "node:test";

import { CallTiles } from "../../../static/js/call/tiles.js";
import { setCatalog } from "../../../static/js/ui/i18n.js";
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

test("a tile's own label, states and button are in the page's language", (t) => {
  installGlobals(t, { document: fakeDom() });
  t.after(() => setCatalog(null));
  setCatalog({
    plural: "0",
    catalog: {
      "%(name)s (you)": "%(name)s（自分）",
      "microphone muted": "マイクミュート中",
      "audio only": "音声のみ",
      ", ": "、",
      "Remove from the call": "通話から外す",
    },
  });
  const list = element("ul");
  const tiles = new CallTiles(list, element("p"), { onRemove: () => {} });
  tiles.upsert({ id: "a1", user: { id: 1, name: "ann" }, ...state, video: false, audio_muted: true }, true);
  tiles.upsert({ id: "b2", user: { id: 2, name: "bob" }, ...state }, false);
  const [mine, theirs] = list.children;
  const part = (item, id) => item.children.find((node) => node.dataset.testid === id);
  assert.deepEqual(
    part(mine, "tile-name").childNodes.map((node) => (typeof node === "string" ? node : node.textContent)),
    ["ann", "（自分）"],
  );
  assert.equal(part(mine, "tile-state").textContent, "マイクミュート中、音声のみ");
  assert.equal(part(theirs, "remove-participant").textContent, "通話から外す");
});
