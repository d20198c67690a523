import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { link, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseStat } from "../../../../../src/server/runtime/proc-tree.js";
import { removeSlotOwner, sweepDeadSlots, writeSlotOwner } from "../../../../../src/server/runtime/pool/slot-owner.js";
import { tempDir } from "../../../../helpers/temp-dir.js";

// Which pool slots a server may remove (src/server/runtime/pool/slot-owner.ts): only those whose owner
// file proves, in this PID namespace, that their server is gone; never by following a link.

const namespace = readlinkSync("/proc/self/ns/pid");
const selfStart = parseStat(readFileSync("/proc/self/stat", "utf8"))?.startTime;

/** A pid that named a process a moment ago and now names none. */
function deadPid(): number {
  const done = spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(done.stdout.trim());
}

async function slot(state: string, name: string, owner: string | undefined): Promise<void> {
  await mkdir(path.join(state, name, "rw"), { recursive: true });
  await writeFile(path.join(state, name, "rw", "file"), "left by a sandbox");
  if (owner !== undefined) await writeFile(path.join(state, `${name}.owner`), `${owner}\n`);
}

describe("sweepDeadSlots", () => {
  it("removes only slots whose owner is provably gone, and nothing a link in them points at", async () => {
    await using dir = await tempDir("msbv-slots-");
    const state = path.join(dir.path, "state");
    const outside = path.join(dir.path, "outside");
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, "keep.txt"), "not the slot's");

    await slot(state, ".pool-dead", `${namespace} ${deadPid()} 1`);
    await symlink(outside, path.join(state, ".pool-dead", "rw", "link"));
    await symlink(path.join(outside, "keep.txt"), path.join(state, ".pool-dead", "rw", "file-link"));
    await slot(state, ".pool-reused", `${namespace} ${process.pid} ${(selfStart ?? 0) + 1}`);
    await slot(state, ".pool-alive", `${namespace} ${process.pid} ${selfStart}`);
    await slot(state, ".pool-other-ns", `pid:[1] ${deadPid()} 1`);
    await slot(state, ".pool-garbage", "not an owner line");
    await slot(state, ".pool-no-owner", undefined);
    await writeFile(path.join(state, ".pool-gone.owner"), `${namespace} ${deadPid()} 1\n`);
    await slot(state, "named-sandbox", undefined);

    const swept = await sweepDeadSlots(state, ".pool-");

    expect(swept.sort()).toEqual([".pool-dead", ".pool-gone", ".pool-reused"]);
    expect((await readdir(state)).sort()).toEqual(
      [
        ".pool-alive",
        ".pool-alive.owner",
        ".pool-garbage",
        ".pool-garbage.owner",
        ".pool-no-owner",
        ".pool-other-ns",
        ".pool-other-ns.owner",
        "named-sandbox",
      ].sort(),
    );
    expect(readFileSync(path.join(outside, "keep.txt"), "utf8")).toBe("not the slot's");
  });

  it("removes a dead slot that became a symlink or holds a hard link without touching what they reach", async () => {
    await using dir = await tempDir("msbv-slots-");
    const state = path.join(dir.path, "state");
    const outside = path.join(dir.path, "outside");
    await mkdir(path.join(outside, "tree"), { recursive: true });
    await writeFile(path.join(outside, "tree", "keep.txt"), "not the slot's");
    await writeFile(path.join(outside, "linked.txt"), "hard-linked into a slot");
    // The slot folder itself replaced by a symlink to a folder outside the state.
    await mkdir(state, { recursive: true });
    await symlink(path.join(outside, "tree"), path.join(state, ".pool-swapped"));
    await writeFile(path.join(state, ".pool-swapped.owner"), `${namespace} ${deadPid()} 1\n`);
    // A hard link to an outside file inside a slot.
    await slot(state, ".pool-hardlink", `${namespace} ${deadPid()} 1`);
    await link(path.join(outside, "linked.txt"), path.join(state, ".pool-hardlink", "rw", "hard"));
    // An owner file that is a symlink to an outside file is no owner file.
    await symlink(path.join(outside, "linked.txt"), path.join(state, ".pool-fake.owner"));
    await slot(state, ".pool-fake", undefined);

    expect((await sweepDeadSlots(state, ".pool-")).sort()).toEqual([".pool-hardlink", ".pool-swapped"]);
    expect((await readdir(state)).sort()).toEqual([".pool-fake", ".pool-fake.owner"]);
    expect(readFileSync(path.join(outside, "tree", "keep.txt"), "utf8")).toBe("not the slot's");
    expect(readFileSync(path.join(outside, "linked.txt"), "utf8")).toBe("hard-linked into a slot");
  });

  it("writes an owner file that names this process, refuses to overwrite one, and forgets it", async () => {
    await using dir = await tempDir("msbv-slots-");
    await writeSlotOwner(dir.path, ".pool-mine");
    expect(readFileSync(path.join(dir.path, ".pool-mine.owner"), "utf8")).toBe(`${namespace} ${process.pid} ${selfStart}\n`);
    await expect(writeSlotOwner(dir.path, ".pool-mine")).rejects.toMatchObject({ code: "EEXIST" });
    await mkdir(path.join(dir.path, ".pool-mine"));
    expect(await sweepDeadSlots(dir.path, ".pool-")).toEqual([]);
    await removeSlotOwner(dir.path, ".pool-mine");
    expect(existsSync(path.join(dir.path, ".pool-mine.owner"))).toBe(false);
  });
});
