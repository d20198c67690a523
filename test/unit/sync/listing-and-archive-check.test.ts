import { describe, expect, it } from "vitest";
import { checkArchive } from "../../../src/sync/archive-check.js";
import type { ArchiveMember } from "../../../src/sync/archive.js";
import { parseListing } from "../../../src/sync/guest-listing.js";
import { relPathProblem } from "../../../src/sync/rel-paths.js";

const H = "a".repeat(64);
const fail = (what: string) => new Error(what);
const rec = (s: string | Buffer) => Buffer.concat([Buffer.isBuffer(s) ? s : Buffer.from(s), Buffer.from([0])]);

describe("parseListing", () => {
  it("reads files with hashes, folders and other entries; names may hold newlines and spaces", () => {
    const raw = Buffer.concat([rec(`${H}  ./a b\nc`), rec("D ./d"), rec("O ./d/link"), rec(`${H}  ./d/x`)]);
    const l = parseListing(raw, fail);
    expect([...l.files]).toEqual([
      ["a b\nc", H],
      ["d/x", H],
    ]);
    expect([...l.dirs]).toEqual(["d"]);
    expect([...l.others]).toEqual(["d/link"]);
    expect(l.undecodable).toBe(0);
  });

  it("an empty folder lists nothing", () => {
    expect(parseListing(Buffer.alloc(0), fail).files.size).toBe(0);
  });

  it("counts names that are not UTF-8 instead of mangling them", () => {
    const l = parseListing(rec(Buffer.concat([Buffer.from(`${H}  ./`), Buffer.from([0xff, 0xfe])])), fail);
    expect(l.files.size).toBe(0);
    expect(l.undecodable).toBe(1);
  });

  it("refuses hostile or malformed records", () => {
    expect(() => parseListing(rec(`${H}  ./../up`), fail)).toThrow(/unsafe name/);
    expect(() => parseListing(rec(`${H}  /etc/passwd`), fail)).toThrow(/without \.\/ prefix/);
    expect(() => parseListing(rec("D ./a//b"), fail)).toThrow(/unsafe name/);
    expect(() => parseListing(rec("zzz  ./a"), fail)).toThrow(/unexpected record/);
    expect(() => parseListing(Buffer.from(`${H}  ./a`), fail)).toThrow(/NUL-terminated/);
  });
});

describe("checkArchive", () => {
  const file = (path: string, data = "x", extra: Partial<ArchiveMember> = {}): ArchiveMember => ({
    path,
    type: "File",
    size: Buffer.byteLength(data),
    mode: 0o4755,
    pieces: [Buffer.from(data)],
    ...extra,
  });

  it("accepts exactly the requested regular files, folders ignored, special mode bits dropped", () => {
    const { files, problems } = checkArchive([{ ...file("d/"), type: "Directory", size: 0, pieces: [] }, file("d/a", "hello")], new Set(["d/a"]));
    expect(problems).toEqual([]);
    expect(files.get("d/a")).toEqual({ pieces: [Buffer.from("hello")], size: 5, mode: 0o755 });
  });

  it("refuses traversal, absolute names, links, devices, extras, duplicates and missing files", () => {
    const members: ArchiveMember[] = [
      file("../escape"),
      file("/etc/passwd"),
      file("a/../../b"),
      { ...file("link"), type: "SymbolicLink", linkpath: "/etc/passwd", size: 0, pieces: [] },
      { ...file("hard"), type: "Link", linkpath: "/etc/shadow", size: 0, pieces: [] },
      { ...file("dev"), type: "CharacterDevice", size: 0, pieces: [] },
      file("extra"),
      file("req"),
      file("req"),
    ];
    const { problems } = checkArchive(members, new Set(["req", "link", "hard", "dev", "missing"]));
    expect(problems).toEqual([
      "\"../escape\": has an empty, '.' or '..' component",
      '"/etc/passwd": absolute path',
      "\"a/../../b\": has an empty, '.' or '..' component",
      '"link": a SymbolicLink -> "/etc/passwd", only regular files are accepted',
      '"hard": a Link -> "/etc/shadow", only regular files are accepted',
      '"dev": a CharacterDevice, only regular files are accepted',
      '"extra": not requested',
      '"req": appears twice',
      '"link": requested but missing',
      '"hard": requested but missing',
      '"dev": requested but missing',
      '"missing": requested but missing',
    ]);
  });
});

it("relPathProblem accepts plain relative paths only", () => {
  expect(relPathProblem("a/b.txt")).toBeUndefined();
  expect(relPathProblem("..hidden")).toBeUndefined();
  for (const bad of ["", "/a", "a/", "./a", "a/./b", "a/..", "a\0b"]) expect(relPathProblem(bad)).toBeDefined();
});

describe("parseListing entry limit", () => {
  it("a listing with more entries than maxEntries fails with the caller's error; exactly maxEntries is fine", () => {
    const raw = Buffer.concat(Array.from({ length: 11 }, (_, i) => rec(`D ./d${i}`)));
    const tooMany = new Error("too many");
    expect(() => parseListing(raw, fail, 10, () => tooMany)).toThrow(tooMany);
    expect(parseListing(raw, fail, 11).dirs.size).toBe(11);
  });
});
