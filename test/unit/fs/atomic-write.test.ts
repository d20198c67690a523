import { lstat, mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../../src/fs/atomic-write.js";
import { tempDir } from "../../helpers/temp-dir.js";

describe("writeFileAtomic", () => {
  it("creates the file with the given mode and leaves only the target in the folder", async () => {
    await using dir = await tempDir();
    const target = path.join(dir.path, "a.txt");
    await writeFileAtomic(target, "hello", { mode: 0o600 });
    expect(await readFile(target, "utf8")).toBe("hello");
    expect((await lstat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir.path)).toEqual(["a.txt"]);
  });

  it("replaces an existing file", async () => {
    await using dir = await tempDir();
    const target = path.join(dir.path, "a.txt");
    await writeFile(target, "old");
    await writeFileAtomic(target, new TextEncoder().encode("new"));
    expect(await readFile(target, "utf8")).toBe("new");
  });

  it("removes the temp file and keeps the old content when the write fails midway", async () => {
    await using dir = await tempDir();
    const target = path.join(dir.path, "a.txt");
    await writeFile(target, "old");
    // A value the file handle refuses: the temp file already exists when the write throws.
    await expect(writeFileAtomic(target, 42 as unknown as string)).rejects.toThrow();
    expect(await readFile(target, "utf8")).toBe("old");
    expect(await readdir(dir.path)).toEqual(["a.txt"]);
  });

  it("removes the temp file when the rename fails (target is a folder)", async () => {
    await using dir = await tempDir();
    const target = path.join(dir.path, "taken");
    await mkdir(target);
    await writeFile(path.join(target, "inside"), "kept");
    await expect(writeFileAtomic(target, "x")).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(await readdir(dir.path)).toEqual(["taken"]);
    expect(await readFile(path.join(target, "inside"), "utf8")).toBe("kept");
  });

  it("fails without a trace when the folder does not exist", async () => {
    await using dir = await tempDir();
    await expect(writeFileAtomic(path.join(dir.path, "missing", "a.txt"), "x")).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(dir.path)).toEqual([]);
  });

  it("replaces a symlink at the target instead of writing through it", async () => {
    await using dir = await tempDir();
    const outside = path.join(dir.path, "outside.txt");
    await writeFile(outside, "secret");
    const target = path.join(dir.path, "link");
    await symlink(outside, target);
    await writeFileAtomic(target, "mine");
    expect(await readFile(outside, "utf8")).toBe("secret");
    expect((await lstat(target)).isFile()).toBe(true);
    expect(await readFile(target, "utf8")).toBe("mine");
  });

  it("a concurrent reader only ever sees a whole old or whole new file", async () => {
    await using dir = await tempDir();
    const target = path.join(dir.path, "big.txt");
    const versions = ["a", "b", "c", "d", "e", "f"].map((c) => c.repeat(4 * 1024 * 1024));
    await writeFileAtomic(target, versions[0] as string);
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const text = await readFile(target, "utf8");
        seen.add(text.length === versions[0]?.length && text === (text[0] as string).repeat(text.length) ? "whole" : "torn");
      }
    })();
    for (const v of versions.slice(1)) await writeFileAtomic(target, v);
    writing = false;
    await reader;
    expect(seen).toEqual(new Set(["whole"]));
    expect(await readFile(target, "utf8")).toBe(versions.at(-1));
    expect(await readdir(dir.path)).toEqual(["big.txt"]);
  });
});
