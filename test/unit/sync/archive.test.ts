import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Header } from "tar";
import { afterAll, describe, expect, it } from "vitest";
import { packArchive, readArchive } from "../../../src/sync/archive.js";
import { tempDir } from "../../helpers/temp-dir.js";

const temp = await tempDir("msbv-sync-archive-");
const dir = temp.path;
afterAll(() => temp.remove());

const long = `${"deep/".repeat(40)}file.txt`;
const mtime = new Date("2026-01-02T03:04:05Z");

it("packs files, folders, empty files and long names that GNU tar unpacks byte for byte", () => {
  const buf = packArchive([
    { path: "d", type: "Directory", mode: 0o755, mtime },
    { path: "d/a.txt", type: "File", mode: 0o640, mtime, data: Buffer.from("hello") },
    { path: long, type: "File", mode: 0o600, mtime, data: Buffer.alloc(1000, 7) },
    { path: "empty", type: "File", mode: 0o644, mtime, data: Buffer.alloc(0) },
  ]);
  writeFileSync(join(dir, "t.tar"), buf);
  const out = join(dir, "out");
  mkdirSync(out);
  execFileSync("tar", ["-x", "-f", join(dir, "t.tar"), "-C", out]);
  expect(readFileSync(join(out, "d/a.txt"), "utf8")).toBe("hello");
  expect(readFileSync(join(out, long))).toEqual(Buffer.alloc(1000, 7));
  expect(readFileSync(join(out, "empty")).length).toBe(0);
});

it("a file dated before 1970 packs (whole seconds kept) and GNU tar unpacks it with that time", () => {
  const buf = packArchive([
    { path: "old.txt", type: "File", mode: 0o644, mtime: new Date(-100_500), data: Buffer.from("old") },
    { path: "older.txt", type: "File", mode: 0o644, mtime: new Date(-86_400_000), data: Buffer.from("older") },
  ]);
  writeFileSync(join(dir, "old.tar"), buf);
  const out = join(dir, "out-old");
  mkdirSync(out);
  execFileSync("tar", ["-x", "-f", join(dir, "old.tar"), "-C", out]);
  expect(execFileSync("stat", ["-c", "%Y %n", join(out, "old.txt"), join(out, "older.txt")], { encoding: "utf8" })).toBe(
    `-101 ${join(out, "old.txt")}\n-86400 ${join(out, "older.txt")}\n`,
  );
});

it("reads back what GNU tar writes, with types, link targets and contents", async () => {
  const src = join(dir, "src");
  mkdirSync(join(src, "sub"), { recursive: true });
  writeFileSync(join(src, "sub", "x.bin"), Buffer.from([0, 1, 2, 255]));
  execFileSync("ln", ["-s", "/etc/passwd", join(src, "link")]);
  const tarBuf = execFileSync("tar", ["-c", "--format=pax", "--no-recursion", "-f", "-", "-C", src, "sub", "sub/x.bin", "link"]);
  const members = await readArchive(tarBuf);
  expect(members.map((m) => [m.path, m.type])).toEqual([
    ["sub/", "Directory"],
    ["sub/x.bin", "File"],
    ["link", "SymbolicLink"],
  ]);
  expect(Buffer.concat(members[1]?.pieces ?? [])).toEqual(Buffer.from([0, 1, 2, 255]));
  expect(members[2]?.linkpath).toBe("/etc/passwd");
});

it("rejects a damaged archive instead of returning part of it", async () => {
  const buf = packArchive([{ path: "a", type: "File", mode: 0o644, mtime, data: Buffer.alloc(3000, 1) }]);
  await expect(readArchive(buf.subarray(0, 1200))).rejects.toThrow();
  const bad = Buffer.from(buf);
  bad[10] = 0x41; // corrupt the header: checksum no longer matches
  await expect(readArchive(bad)).rejects.toThrow();
});

describe("readArchive against a lying header", () => {
  it("a member claiming 1 TB in a 5 KiB archive is rejected as truncated, holding nothing of the claim", async () => {
    const header = new Header({ path: "big", type: "File", size: 1024 ** 4, mode: 0o644, mtime: new Date(0) });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    const before = process.memoryUsage().rss;
    await expect(readArchive(Buffer.concat([block, Buffer.alloc(4096, 0x41), Buffer.alloc(1024)]))).rejects.toThrow(/Truncated/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });
});
