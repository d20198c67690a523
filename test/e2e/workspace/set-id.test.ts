// Finding 5 (host side) of issue 11: a sandbox leaves a file with mode 06777 in its volume, then the host
// rewrites it through `Workspace.write`. Keeping the replaced file's bits must not keep S_ISUID/S_ISGID,
// or a host user could run the file as its owner. The 06777 is set here on the host (as root when the
// suite runs as root, exactly what a sandbox uid 0 could do before the runtime's chmod filter), because
// the containment filter may stop a sandbox from setting it at all; this test is about the host side.
import { chmod, mkdtemp, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Workspace, type WalkStrategy } from "../../../src/workspace/index.js";

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

describe.each<WalkStrategy>(["procfd", "path"])("Workspace.write never leaves set-id bits (%s)", (strategy) => {
  let root: string;
  let ws: Workspace;
  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), "msbv-setid-")));
    ws = await Workspace.open(root, { strategy });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("over a file left with 06777: the rest of the bits are kept, the set-id bits are gone", async () => {
    const file = path.join(root, "tool");
    await writeFile(file, "#!/bin/sh\nid\n");
    await chmod(file, 0o6777);
    expect((await stat(file)).mode & 0o7777).toBe(0o6777); // the attack's precondition holds
    await ws.write("tool", "#!/bin/sh\necho rewritten\n");
    const mode = (await stat(file)).mode;
    expect(mode & (S_ISUID | S_ISGID)).toBe(0);
    expect(mode & 0o777).toBe(0o777);
  });

  it("an explicit mode asking for setuid/setgid gets the permission bits only; new files never get them", async () => {
    await ws.write("asked", "x", { mode: 0o6755 });
    expect((await stat(path.join(root, "asked"))).mode & 0o7777).toBe(0o755);
    await ws.write("fresh", "x");
    expect((await stat(path.join(root, "fresh"))).mode & (S_ISUID | S_ISGID)).toBe(0);
  });
});
