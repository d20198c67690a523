import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import * as root from "../../../src/index.js";
import { emptyReport } from "../../../src/sync/report.js";

// src/errors is the bottom layer: every other folder throws its classes, so it may import only
// itself and Node. (SyncConflictError carries a SyncReport and therefore lives in src/sync.)
it("src/errors imports nothing from other src folders", async () => {
  const dir = fileURLToPath(new URL("../../../src/errors/", import.meta.url));
  const upward: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts"))) {
    const text = await readFile(dir + file, "utf8");
    for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
      const spec = m[1] as string;
      if (!spec.startsWith("./") && !spec.startsWith("node:")) upward.push(`${file}: ${spec}`);
    }
  }
  expect(upward).toEqual([]);
});

it("the package root still exports SyncConflictError as an MsbvError with its code", () => {
  const err = new root.SyncConflictError("x", emptyReport());
  expect(err).toBeInstanceOf(root.MsbvError);
  expect(err.code).toBe(root.ErrorCodes.SYNC_CONFLICT);
});
