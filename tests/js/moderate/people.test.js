import assert from "node:assert/strict";
import { test } from "node:test";

import { activeSanctions } from "../../../static/js/moderate/people.js";

test("a timeout whose end has passed is over; a ban without an end is not", () => {
  const now = Date.UTC(2026, 0, 1, 12);
  const sanctions = [
    { user: "over", kind: "timeout", until: new Date(now - 1000).toISOString() },
    { user: "running", kind: "timeout", until: new Date(now + 60_000).toISOString() },
    { user: "banned", kind: "ban", until: null },
  ];
  assert.deepEqual(
    activeSanctions(sanctions, now).map((sanction) => sanction.user),
    ["running", "banned"],
  );
  assert.deepEqual(activeSanctions(undefined, now), []);
});
