import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors/index.js";

// docs/errors.md is the reference users look codes up in: it must list every code, and only real ones.
it("docs/errors.md has exactly one table row per error code", async () => {
  const doc = await readFile(fileURLToPath(new URL("../../../docs/errors.md", import.meta.url)), "utf8");
  const rows = [...doc.matchAll(/^\| `(MSBV_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect([...rows].sort()).toEqual(Object.values(ErrorCodes).sort());
  expect(new Set(rows).size).toBe(rows.length);
});
