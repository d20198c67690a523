import { access, realpath, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect, it } from "vitest";
import { tempDir } from "./temp-dir.js";

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

it("gives a fresh canonical folder and removes it with its content at the end of the scope", async () => {
  let kept: string;
  {
    await using dir = await tempDir("msbv-tempdir-test-");
    kept = dir.path;
    expect(dir.path).toBe(await realpath(dir.path));
    expect(path.basename(dir.path).startsWith("msbv-tempdir-test-")).toBe(true);
    expect(path.dirname(dir.path)).toBe(await realpath(tmpdir()));
    await writeFile(path.join(dir.path, "f.txt"), "x");
  }
  expect(await exists(kept)).toBe(false);
});

it("removes the folder when the scope throws", async () => {
  let kept = "";
  await expect(
    (async () => {
      await using dir = await tempDir();
      kept = dir.path;
      throw new Error("boom");
    })(),
  ).rejects.toThrow("boom");
  expect(kept).not.toBe("");
  expect(await exists(kept)).toBe(false);
});
