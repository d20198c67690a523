import { chmod, lstat, mkdir, mkdtemp, open, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DevServerError } from "../../../../src/errors/index.js";
import { bwrapDestinations, repairRootLayer } from "../../../../src/server/runtime/root-layer.js";

const temps: string[] = [];
afterEach(async () => {
  for (const t of temps.splice(0)) await rm(t, { recursive: true, force: true });
});
async function temp(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "msbv-root-layer-"));
  temps.push(dir);
  return dir;
}

describe("bwrapDestinations", () => {
  it("lists every destination with the kind of entry bubblewrap needs", async () => {
    const args = [
      "--unshare-all",
      "--setenv",
      "A",
      "b",
      "--bind",
      "/tmp",
      "/",
      "--ro-bind",
      "/usr",
      "/usr",
      "--symlink",
      "usr/bin",
      "/bin",
      "--dir",
      "/etc",
      "--ro-bind",
      "/etc/hostname",
      "/etc/hostname",
      "--perms",
      "0755",
      "--proc",
      "/proc",
      "--",
      "sh",
      "--dir",
      "/ignored",
    ];
    expect(await bwrapDestinations(args)).toEqual([
      { dest: "/", kind: "dir" },
      { dest: "/usr", kind: "dir" },
      { dest: "/bin", kind: "symlink" },
      { dest: "/etc", kind: "dir" },
      { dest: "/etc/hostname", kind: "file" },
      { dest: "/proc", kind: "dir" },
    ]);
  });

  it("fails closed on an option it does not know", async () => {
    await expect(bwrapDestinations(["--new-mount-kind", "/x"])).rejects.toBeInstanceOf(DevServerError);
  });
});

describe("repairRootLayer", () => {
  it("removes symlinks and wrong-kind entries on the way to each destination, never their targets", async () => {
    const root = await temp();
    const host = await temp();
    await writeFile(path.join(host, "precious"), "keep");
    await symlink(host, path.join(root, "opt")); // intermediate symlink
    await symlink("usr/bin", path.join(root, "bin")); // bubblewrap's own, would make it fail
    await writeFile(path.join(root, "etc"), "a file where a folder goes");
    await mkdir(path.join(root, "data", "kept"), { recursive: true });
    await writeFile(path.join(root, "data", "kept", "f"), "user data");
    await repairRootLayer(root, ["--dir", "/opt/msbv/bin", "--symlink", "usr/bin", "/bin", "--dir", "/etc", "--dir", "/data"]);
    expect(await readdir(host)).toEqual(["precious"]);
    expect((await readdir(root)).sort()).toEqual(["data"]);
    expect((await lstat(path.join(root, "data", "kept", "f"))).isFile()).toBe(true);
  });

  it("gives the owner access to folders the sandbox locked (chmod 000), through the layer's descriptor", async () => {
    const root = await temp();
    const host = await temp();
    await mkdir(path.join(root, "opt"));
    await symlink(host, path.join(root, "opt", "msbv"));
    await chmod(path.join(root, "opt"), 0o000);
    await chmod(root, 0o055);
    const handle = await open(root, "r");
    try {
      await repairRootLayer(`/proc/self/fd/${handle.fd}`, ["--perms", "0755", "--dir", "/opt/msbv/bin"]);
    } finally {
      await handle.close();
    }
    expect((await lstat(root)).mode & 0o777).toBe(0o755);
    expect((await lstat(path.join(root, "opt"))).mode & 0o777).toBe(0o700);
    expect(await readdir(path.join(root, "opt"))).toEqual([]);
    expect(await readdir(host)).toEqual([]);
  });
});
