import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 2: a microVM has a writable root and upstream keeps a sandbox's writable layer
// across stop/start of the same name. Ours is <state>/<name>/rw/root bound at /. bubblewrap builds
// mount points in it by path at every start, so a symlink the sandbox planted there must not steer
// them onto the host (test 4 performs that attack). Without the repair (root-layer.ts) a restart
// fails outright, because bubblewrap refuses to recreate its own symlinks (/bin -> usr/bin); with
// it, the restart works and nothing lands in the host folder the planted links point at.

let fx: DevServerFixture;
let outside: string;
/** The server state of the fixture's dev server (see dev-server-fixture.ts). */
const stateRoot = (name: string) => path.join(fx.dir, "..", `${path.basename(fx.dir)}-server`, ".menv", name, "rw", "root");

beforeAll(async () => {
  fx = await startFixture();
  outside = await mkdtemp(path.join(tmpdir(), "msbv-outside-"));
});
afterAll(async () => {
  await fx?.close();
  await rm(outside, { recursive: true, force: true });
});

describe("writable root", () => {
  it("mkdir /data works; the layer is kept across stop/start of the same name, not shared with other names", async () => {
    const sb = await PythonSandbox.create({ name: "root-a", serverUrl: fx.url, configPath: fx.configPath });
    try {
      const made = await sb.command.run("sh", ["-c", "mkdir /data && echo kept > /data/file && echo ok"]);
      expect(await made.error()).toBe("");
      expect(await made.output()).toBe("ok");
      await sb.stop();
      await sb.start();
      expect(await (await sb.command.run("cat", ["/data/file"])).output()).toBe("kept");
    } finally {
      await sb.stop();
    }
    await using other = await PythonSandbox.create({ name: "root-b", serverUrl: fx.url, configPath: fx.configPath });
    expect((await other.command.run("ls", ["/data"])).exitCode).not.toBe(0);
  });

  it("/usr stays the host's, read-only", async () => {
    await using sb = await PythonSandbox.create({ name: "root-usr", serverUrl: fx.url, configPath: fx.configPath });
    const res = await sb.command.run("sh", ["-c", "touch /usr/msbv-probe"]);
    expect(res.exitCode).not.toBe(0);
    await expect(lstat("/usr/msbv-probe")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("sync mode with ./workspace:/workspace works (the guest folder is created)", async () => {
    await mkdir(path.join(fx.dir, "workspace"), { recursive: true });
    await writeFile(path.join(fx.dir, "workspace", "in.txt"), "from host");
    const sb = await PythonSandbox.create({
      name: "root-sync",
      serverUrl: fx.url,
      configPath: fx.configPath,
      volumes: ["./workspace:/workspace"],
      sync: true,
    });
    try {
      expect(await (await sb.command.run("cat", ["/workspace/in.txt"])).output()).toBe("from host");
      await sb.command.run("sh", ["-c", "echo from sandbox > /workspace/out.txt"]);
    } finally {
      await sb.stop();
    }
    expect(await readFile(path.join(fx.dir, "workspace", "out.txt"), "utf8")).toBe("from sandbox\n");
  });

  it("a symlink planted at a mount point does not steer the next start onto the host", async () => {
    const sb = await PythonSandbox.create({ name: "root-attack", serverUrl: fx.url, configPath: fx.configPath });
    const hostTarget = path.join(outside, "target");
    await mkdir(hostTarget);
    try {
      // /opt holds the python alias (made by bubblewrap at each start); /etc holds bind mounts.
      // During setup bubblewrap's old root is /oldroot, so these point at host folders.
      const plant = await sb.command.run("sh", [
        "-c",
        `rm -rf /opt && ln -s /oldroot${hostTarget} /opt && mkdir -p /srv && ln -s /oldroot${hostTarget} /srv/x && echo planted`,
      ]);
      expect(await plant.output()).toBe("planted");
      await sb.stop();
      // The attack is in place on the host side: the layer's /opt is a symlink to the host folder.
      expect((await lstat(path.join(stateRoot("root-attack"), "opt"))).isSymbolicLink()).toBe(true);
      await sb.start();
      expect(await readdir(hostTarget)).toEqual([]);
      expect((await lstat(path.join(stateRoot("root-attack"), "opt"))).isDirectory()).toBe(true);
      expect(await (await sb.command.run("python", ["-c", "print('alias back')"])).output()).toBe("alias back");
    } finally {
      await sb.stop();
    }
  });
});
