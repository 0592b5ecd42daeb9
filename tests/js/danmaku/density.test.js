import assert from "node:assert/strict";
import { test } from "node:test";

import { DensityGate, sampleEvenly } from "../../../static/js/danmaku/density.js";

test("after a quiet spell a burst may show a quarter of the cap at once", () => {
  const gate = new DensityGate({ max: 120, lifetimeMs: 8000 });
  assert.equal(gate.allowance(0), 30);
});

test("the cap is never passed, however many tokens there are", () => {
  const gate = new DensityGate({ max: 8, lifetimeMs: 8000 });
  assert.equal(gate.allowance(7), 1);
  assert.equal(gate.allowance(8), 0);
  assert.equal(gate.allowance(20), 0);
});

test("tokens come back at the rate that keeps the cap on screen", () => {
  const gate = new DensityGate({ max: 120, lifetimeMs: 8000 });
  for (let index = 0; index < 30; index++) gate.spend();
  assert.equal(gate.allowance(0), 0);
  gate.advance(1000); // 120 per 8 s: 15 a second
  assert.equal(gate.allowance(0), 15);
  gate.advance(-5000); // a clock running backwards earns nothing (and takes nothing)
  assert.equal(gate.allowance(0), 15);
  gate.advance(60_000);
  assert.equal(gate.allowance(0), 30);
});

test("a faster speed (a shorter lifetime) refills faster", () => {
  const gate = new DensityGate({ max: 120, lifetimeMs: 8000 });
  for (let index = 0; index < 30; index++) gate.spend();
  gate.configure({ lifetimeMs: 4000 });
  gate.advance(500);
  assert.equal(gate.allowance(0), 15);
});

test("an even sample keeps the newest and spreads over the whole queue", () => {
  const items = Array.from({ length: 100 }, (_, index) => index);
  const picked = sampleEvenly(items, 10);
  assert.equal(picked.length, 10);
  assert.equal(picked.at(-1), 99);
  assert.deepEqual(picked, [...picked].sort((a, b) => a - b));
  assert.ok(picked[0] < 10);
  for (let index = 1; index < picked.length; index++) assert.equal(picked[index] - picked[index - 1], 10);
});

test("a sample as large as the queue is the whole queue; none is none", () => {
  assert.deepEqual(sampleEvenly([1, 2, 3], 5), [1, 2, 3]);
  assert.deepEqual(sampleEvenly([1, 2, 3], 0), []);
});
