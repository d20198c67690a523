import { chmod, lstat, readdir, rename, stat, symlink } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startContainmentServer, type ContainmentServer, type ServerMode } from "./containment-fixture.js";

// The writable root (<state>/<name>/rw/root bound at /, docs/dev-server.md#isolation-model) under
// containment, with the server as root (idmapped to the sandbox's own uid) and as an ordinary user:
// uid 0 inside can `mkdir /data`, what it writes is owned on the host by the folder's owner (never
// the sandbox uid), and a symlink planted at a mount point, hidden in a folder the sandbox made
// unsearchable (mode 000), does not steer the next start's bubblewrap onto a host folder.

describe.each(MODES)("writable root (server as %s)", (mode: ServerMode) => {
  let server: ContainmentServer;
  const layer = (name: string) => path.join(server.serverDir, ".menv", name, "rw", "root");

  beforeAll(async () => {
    server = await startContainmentServer(mode);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("mkdir /data works; the file lands in the layer owned by the folder's owner", async () => {
    const sb = await server.create("wr-data");
    const made = await sb.command.run("sh", ["-c", "mkdir /data && echo kept > /data/file && echo ok"]);
    expect(await made.error()).toBe("");
    expect(await made.output()).toBe("ok");
    const owner = await stat(path.join(layer("wr-data"), "data", "file"));
    expect({ uid: owner.uid, gid: owner.gid }).toEqual({ uid: server.uid, gid: server.gid });
    await sb.stop();
    await sb.start();
    expect(await (await sb.command.run("cat", ["/data/file"])).output()).toBe("kept");
  });

  it("a symlink hidden in an unsearchable folder does not steer the next start onto the host", async () => {
    // World-writable, so bubblewrap (whatever host uid it runs as) could create the alias folder
    // there if it followed the planted link: the attack's only obstacle is the repair.
    const hostTarget = await server.folder("wr-target");
    await chmod(hostTarget, 0o777);
    const sb = await server.create("wr-attack");
    // /opt/msbv/bin is the python alias folder bubblewrap makes at each start (bin-links.ts).
    const plant = await sb.command.run("sh", [
      "-c",
      `rm -rf /opt && mkdir /opt && ln -s /oldroot${hostTarget} /opt/msbv && chmod 000 /opt && echo planted`,
    ]);
    expect(await plant.output()).toBe("planted");
    await sb.stop();
    // The attack is in place: the layer's /opt/msbv is a link to the host folder, behind a 000 folder.
    expect((await lstat(path.join(layer("wr-attack"), "opt", "msbv"))).isSymbolicLink()).toBe(true);
    expect((await lstat(path.join(layer("wr-attack"), "opt"))).mode & 0o777).toBe(0);
    await sb.start();
    expect(await readdir(hostTarget)).toEqual([]);
    expect((await lstat(path.join(layer("wr-attack"), "opt", "msbv"))).isDirectory()).toBe(true);
    expect(await (await sb.command.run("python", ["-c", "print('alias back')"])).output()).toBe("alias back");
  });

  it("the layer's own folder cannot be swapped for a symlink (opened without following one)", async () => {
    const sb = await server.create("wr-swap");
    await sb.stop();
    const outside = await server.folder("wr-outside");
    const root = layer("wr-swap");
    // Replace rw/root with a symlink to a host folder, as a local attacker with the server's uid could.
    await rename(root, `${root}.gone`);
    await symlink(outside, root);
    // prepareSandboxDirs refuses a non-folder state entry, and the descriptor walk refuses a link.
    const refused = await sb.start().then(
      () => "started",
      (error: unknown) => String(error),
    );
    // The client sees a generic internal error (host paths stay in the server's log).
    expect(refused).toContain("HTTP 500");
    expect(server.logs.join("\n")).toMatch(/not a plain directory|is a symlink/);
    expect(await readdir(outside)).toEqual([]);
  });
});
