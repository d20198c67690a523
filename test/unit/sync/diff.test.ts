import { describe, expect, it } from "vitest";
import { planBack, planIn, topmost, type TreeListing } from "../../../src/sync/diff.js";
import type { VolumeState } from "../../../src/sync/types.js";

const tree = (files: Record<string, string>, dirs: string[] = [], others: string[] = []): TreeListing => ({
  files: new Map(Object.entries(files)),
  dirs: new Set(dirs),
  others: new Set(others),
});
const sent = (files: Record<string, string>, dirs: string[] = []): VolumeState => ({
  files: new Map(Object.entries(files).map(([p, sha256]) => [p, { sha256, size: 1 }])),
  dirs: new Set(dirs),
});

describe("planIn", () => {
  it("sends only files the guest lacks or holds with other content", () => {
    const plan = planIn(tree({ a: "1", b: "2", c: "3" }), tree({ a: "1", b: "X" }));
    expect(plan).toEqual({ send: ["b", "c"], remove: [], deleted: 0, unchanged: 1, unsynced: ["b"] });
  });

  it("removes guest entries the host lacks, parents only, and links only where a host entry needs the place", () => {
    const host = tree({ f: "1", "d/x": "2", "l2/y": "3" }, ["d", "l2"]);
    const guest = tree({ f: "1", stale: "9", "old/a": "1", "old/b/c": "1", d: "5" }, ["old", "old/b"], ["venv-link", "l2", "old/link"]);
    const plan = planIn(host, guest);
    expect(plan.remove).toEqual(["d", "l2", "old", "stale"]);
    expect(plan.send).toEqual(["d/x", "l2/y"]);
    expect(plan.deleted).toBe(4); // stale, old/a, old/b/c, d
  });

  it("an empty guest gets everything", () => {
    expect(planIn(tree({ a: "1" }, ["e"]), tree({}))).toEqual({ send: ["a"], remove: [], deleted: 0, unchanged: 0, unsynced: [] });
  });

  it("guest files it would overwrite or delete are unsynced unless they match the recorded baseline", () => {
    const host = tree({ a: "host-new", b: "1" });
    const guest = tree({ a: "old", b: "1", leftover: "9", work: "sandbox" });
    expect(planIn(host, guest).unsynced).toEqual(["a", "leftover", "work"]);
    const baseline = sent({ a: "old", b: "1", leftover: "9" });
    expect(planIn(host, guest, baseline).unsynced).toEqual(["work"]);
  });
});

describe("planBack", () => {
  it("applies sandbox edits, additions and deletions where the host still has the copy-in version", () => {
    const plan = planBack(
      sent({ edit: "1", del: "2", keep: "3" }),
      tree({ edit: "1b", keep: "3", add: "4" }),
      tree({ edit: "1", del: "2", keep: "3" }),
    );
    expect(plan).toMatchObject({ writes: ["add", "edit"], fetch: ["add", "edit"], deletes: ["del"], conflicts: [], unchanged: 1 });
  });

  it("keeps host changes the sandbox did not touch", () => {
    const plan = planBack(sent({ a: "1" }), tree({ a: "1" }), tree({ a: "host" }));
    expect(plan).toMatchObject({ writes: [], deletes: [], conflicts: [], unchanged: 1 });
  });

  it("reports every kind of conflict and fetches the sandbox version for a conflict copy", () => {
    const plan = planBack(
      sent({ both: "1", hostDel: "2", sbDel: "3" }),
      tree({ both: "sb", hostDel: "sb", created: "sb" }),
      tree({ both: "host", sbDel: "host", created: "host" }),
    );
    expect(plan.conflicts).toEqual([
      { path: "both", reason: "both-modified", copy: true },
      { path: "created", reason: "both-created", copy: true },
      { path: "hostDel", reason: "host-deleted-sandbox-modified", copy: true },
      { path: "sbDel", reason: "host-modified-sandbox-deleted", copy: false },
    ]);
    expect(plan.fetch).toEqual(["both", "created", "hostDel"]);
    expect(plan.writes).toEqual([]);
    expect(plan.deletes).toEqual([]);
  });

  it("the same edit on both sides is no conflict and needs no transfer", () => {
    const plan = planBack(sent({ a: "1" }), tree({ a: "same" }), tree({ a: "same" }));
    expect(plan).toMatchObject({ fetch: [], conflicts: [], unchanged: 1 });
  });

  it("a host link or folder where the sandbox created a file is a conflict, never a write", () => {
    const plan = planBack(sent({}), tree({ l: "1", d: "2" }), tree({}, ["d"], ["l"]));
    expect(plan.writes).toEqual([]);
    expect(plan.conflicts.map((c) => [c.path, c.reason])).toEqual([
      ["d", "both-created"],
      ["l", "both-created"],
    ]);
  });

  it("a file the sandbox turned into a link is skipped, not deleted on the host", () => {
    const plan = planBack(sent({ a: "1" }), tree({}, [], ["a", "newlink"]), tree({ a: "1" }));
    expect(plan).toMatchObject({ deletes: [], writes: [], skipped: ["a", "newlink"] });
  });

  it("creates new sandbox folders and removes deleted ones deepest first", () => {
    const plan = planBack(sent({}, ["old", "old/deep", "kept"]), tree({}, ["kept", "new", "new/sub"]), tree({}, ["old", "old/deep", "kept"]));
    expect(plan.mkdirs).toEqual(["new", "new/sub"]);
    expect(plan.rmdirs).toEqual(["old/deep", "old"]);
  });

  it("a folder the host already removed is not removed again", () => {
    expect(planBack(sent({}, ["gone"]), tree({}), tree({})).rmdirs).toEqual([]);
  });
});

it("topmost drops paths inside other listed paths", () => {
  expect(topmost(["a/b", "a", "ab", "c/d/e", "c/d"])).toEqual(["a", "ab", "c/d"]);
});
