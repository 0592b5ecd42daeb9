import assert from "node:assert/strict";
import { test } from "node:test";

import { ReasonField } from "../../../static/js/moderate/actions.js";

test("a reason goes with one action, and is cleared once used unless edited meanwhile", () => {
  const input = { value: "  spam  " };
  const reason = new ReasonField(input);
  const field = reason.take();
  assert.deepEqual(field, { reason: "spam" });
  reason.used(field);
  assert.equal(input.value, "");
  assert.deepEqual(reason.take(), {});

  input.value = "first";
  const first = reason.take();
  input.value = "second, typed while the first action ran";
  reason.used(first);
  assert.equal(input.value, "second, typed while the first action ran");
});
