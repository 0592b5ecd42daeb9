// Every module of static/js imports only files that exist and names they export: a module moved
// or renamed without updating its importers fails here, before any browser loads a page.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "static", "js");
const IMPORT = /^(?:import|export)\s+(?:\{([^}]*)\}|[\w*\s]+)\s+from\s+"([^"]+)";/gm;
const EXPORTED = /^export\s+(?:async\s+)?(?:const|let|function|class)\s+(\w+)/gm;
const REEXPORTED = /^export\s+\{([^}]*)\}/gm;

function modules(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

function names(list) {
  return list
    .split(",")
    .map((name) => name.trim().split(/\s+as\s+/)[0])
    .filter(Boolean);
}

function exportsOf(source) {
  const found = new Set([...source.matchAll(EXPORTED)].map((match) => match[1]));
  for (const match of source.matchAll(REEXPORTED)) {
    for (const name of list(match[1])) found.add(name);
  }
  return found;
}

function list(text) {
  return text
    .split(",")
    .map((name) => name.trim().split(/\s+as\s+/).at(-1))
    .filter(Boolean);
}

const sources = new Map(modules(ROOT).map((path) => [path, readFileSync(path, "utf8")]));

test("static/js has the modules to check", () => {
  assert.ok(sources.size > 20, [...sources.keys()]);
});

for (const [path, source] of sources) {
  test(`${relative(ROOT, path)} imports what exists`, () => {
    for (const [, imported, specifier] of source.matchAll(IMPORT)) {
      assert.ok(specifier.startsWith("."), `${specifier}: only relative imports (no bundler)`);
      const target = join(dirname(path), specifier);
      assert.ok(sources.has(target), `${specifier} does not exist`);
      const available = exportsOf(sources.get(target));
      for (const name of names(imported ?? "")) {
        assert.ok(available.has(name), `${specifier} does not export ${name}`);
      }
    }
  });
}
