import { lstat, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DevServerError, InvalidOptionError } from "../../../../src/errors/index.js";
import { assertNoSymlinkBelow, diskUsage, prepareSandboxDirs, prepareStateDir } from "../../../../src/server/runtime/state-dir.js";
import { type TempDir, tempDir } from "../../../helpers/temp-dir.js";

describe("state dir preparation", () => {
  let root: string;
  let rootDir: TempDir;
  beforeEach(async () => {
    rootDir = await tempDir("msbv-state-unit-");
    root = rootDir.path;
  });
  afterEach(async () => {
    await rootDir.remove();
  });

  it("writes the minimal /etc files", async () => {
    const etc = await prepareStateDir(path.join(root, "state"));
    const passwd = await readFile(path.join(etc, "passwd"), "utf8");
    expect(passwd).toMatch(/^root:x:0:0:/);
    expect(passwd).toContain("python-user:x:1000");
  });

  it("rewrites scripts with the shell as shebang and mode 0750, replacing a planted symlink", async () => {
    const state = path.join(root, "state");
    const outside = path.join(root, "outside");
    await mkdir(outside);
    await mkdir(path.join(state, "sb", "rw"), { recursive: true });
    // What a sandbox could have left behind: /.sandbox pointing at a host folder.
    await symlink(outside, path.join(state, "sb", "rw", "sandbox"));
    const dirs = await prepareSandboxDirs(state, "sb", { hello: "echo hi\n" }, "/bin/bash");
    expect((await lstat(dirs.dotSandbox)).isSymbolicLink()).toBe(false);
    const script = path.join(dirs.dotSandbox, "scripts", "hello");
    expect(await readFile(script, "utf8")).toBe("#!/bin/bash\necho hi\n");
    expect((await lstat(script)).mode & 0o777).toBe(0o750);
    expect(await readFile(path.join(outside, "scripts", "hello"), "utf8").catch(() => "absent")).toBe("absent");
  });

  it("refuses a symlinked home and bad script names", async () => {
    const state = path.join(root, "state");
    await mkdir(path.join(state, "sb", "rw"), { recursive: true });
    await symlink(root, path.join(state, "sb", "rw", "home"));
    await expect(prepareSandboxDirs(state, "sb", {}, undefined)).rejects.toBeInstanceOf(DevServerError);
    expect(await readlink(path.join(state, "sb", "rw", "home"))).toBe(root);
    await expect(prepareSandboxDirs(state, "sb2", { "../x": "boom" }, undefined)).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it("finds a symlink on the way to a mount point and counts disk usage without following links", async () => {
    await mkdir(path.join(root, "home", "u"), { recursive: true });
    await symlink("/etc", path.join(root, "home", "u", "link"));
    await expect(assertNoSymlinkBelow(path.join(root, "home"), "/home", "u/link/x", "volume")).rejects.toThrow(
      /"\/home\/u\/link" in the sandbox is a symlink/,
    );
    await expect(assertNoSymlinkBelow(path.join(root, "home"), "/home", "u/missing/x", "volume")).resolves.toBeUndefined();
    await writeFile(path.join(root, "home", "u", "f"), "12345");
    const bytes = await diskUsage(path.join(root, "home"));
    expect(bytes).toBeGreaterThanOrEqual(5);
    expect(bytes).toBeLessThan(100_000);
  });
});
