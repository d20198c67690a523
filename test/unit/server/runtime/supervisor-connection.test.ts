import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IDMAP_ATTACH_DIR } from "../../../../src/server/runtime/containment/launch.js";
import { SupervisorConnection, volumeMovedWhileMounted, type SpawnOptions } from "../../../../src/server/runtime/supervisor-connection.js";
import { SUPERVISOR_NODE_FLAGS, SUPERVISOR_SCRIPT } from "../../../../src/server/runtime/supervisor-script.js";

// Which bubblewrap failures sandbox.start reports as "your volume's folder moved" (a 400 blaming the
// caller's path) rather than a server fault (src/server/runtime/supervisor-connection.ts).
describe("volumeMovedWhileMounted", () => {
  const argv = ["--ro-bind", "/usr", "/usr", "--bind-fd", "5", "/workspace"];

  it("is bwrap's re-check of a descriptor, or a source path it got from a descriptor (in none of its arguments)", () => {
    expect(volumeMovedWhileMounted("bwrap: Race condition binding dirfd", argv)).toBe(true);
    expect(volumeMovedWhileMounted("bwrap: Can't get type of source /project/renamed: No such file or directory", argv)).toBe(true);
    expect(volumeMovedWhileMounted("bwrap: Can't bind mount /oldroot/project/renamed on /newroot/workspace: No such file or directory", argv)).toBe(
      true,
    );
  });

  it("is not a failure on a path of its arguments, nor on the root launcher's private attach folder (nothing can move it)", () => {
    expect(volumeMovedWhileMounted("bwrap: Can't bind mount /oldroot/usr on /newroot/usr: Permission denied", argv)).toBe(false);
    expect(volumeMovedWhileMounted(`bwrap: Can't bind mount /oldroot${IDMAP_ATTACH_DIR}/0 on /newroot/workspace: Cannot allocate memory`, argv)).toBe(
      false,
    );
    expect(volumeMovedWhileMounted(`bwrap: Can't get type of source ${IDMAP_ATTACH_DIR}/1: Input/output error`, argv)).toBe(false);
    expect(volumeMovedWhileMounted("bwrap: Creating new namespace failed: No space left on device", argv)).toBe(false);
  });
});

// The real supervisor script, run by Node directly (no bubblewrap: what is under test is the channel),
// waiting as a pooled sandbox's does (empty workdir) until an attach arrives.
describe("attachWithNextRequest", () => {
  let dir: string;
  let connection: SupervisorConnection | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "msbv-attach-next-"));
  });
  afterEach(async () => {
    await connection?.terminate();
    connection = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const launchWaiting = async (): Promise<SupervisorConnection> => {
    const args = [...SUPERVISOR_NODE_FLAGS, "-e", SUPERVISOR_SCRIPT, "msbv-test", ""];
    connection = await SupervisorConnection.launch({
      bwrapPath: process.execPath,
      launch: { command: process.execPath, args, fds: [], bwrapArgv: [process.execPath, ...args] },
      name: "attach-next",
    });
    return connection;
  };
  const run = (c: SupervisorConnection, argv: string[], options: SpawnOptions = {}) => {
    const out: Record<1 | 2, string> = { 1: "", 2: "" };
    let spawnError = "";
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      c.spawn(
        argv,
        options.parked === true,
        {
          onData: (fd, chunk) => {
            out[fd] += chunk.toString();
          },
          onExit: (code, signal) => resolve({ code, signal }),
          onSpawnError: (code, message) => {
            spawnError = `${code}: ${message}`;
            resolve({ code: null, signal: null });
          },
        },
        options,
      );
    });
    return { out, exit, spawnError: () => spawnError };
  };

  it("tells the supervisor nothing until the next request, which then runs in the sandbox's environment and workdir", async () => {
    const c = await launchWaiting();
    const workdir = path.join(dir, "work");
    c.attachWithNextRequest(
      [
        ["FOO", "bar"],
        ["HOME", path.join(dir, "home")],
      ],
      workdir,
    );
    // Nothing was sent: the workdir the attach makes is not there yet.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(stat(workdir)).rejects.toThrow(/ENOENT/);
    const child = run(c, ["sh", "-c", 'pwd; echo "$FOO"']);
    expect(await child.exit).toEqual({ code: 0, signal: null });
    expect(child.out[1]).toBe(`${workdir}\nbar\n`);
  });

  it("refuses to queue an attach for a sandbox already gone (the claim fails and the start goes cold), as attach rejects", async () => {
    const c = await launchWaiting();
    await c.terminate();
    expect(c.alive).toBe(false);
    await expect(c.attach([["FOO", "bar"]], path.join(dir, "work"))).rejects.toThrow(/the pooled sandbox is gone/);
    expect(() => c.attachWithNextRequest([["FOO", "bar"]], path.join(dir, "work"))).toThrow(/the pooled sandbox is gone/);
  });

  it("ends the sandbox when that attach fails, kills a parked process, and gives every request the reason", async () => {
    const c = await launchWaiting();
    const parked = run(c, ["sleep", "600"], { parked: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writeFile(path.join(dir, "file"), "");
    c.attachWithNextRequest([["FOO", "bar"]], path.join(dir, "file", "work"));
    const child = run(c, ["sh", "-c", "echo ran"]);
    expect(await child.exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(child.out[1]).toBe("");
    expect(child.out[2]).toMatch(/sandbox "attach-next" ended: cannot create or enter the workdir .*\/file\/work: ENOTDIR/);
    // The parked process never got to run with the pool's environment: it went down with the sandbox.
    expect(await parked.exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(c.alive).toBe(false);
    const later = run(c, ["true"]);
    await later.exit;
    expect(later.spawnError()).toMatch(/^ESRCH: sandbox "attach-next" is not running \(cannot create or enter the workdir .*ENOTDIR.*\)$/);
  });
});

describe("a supervisor that cannot make its workdir", () => {
  it("fails the start naming the workdir and a workdir hint, not bubblewrap's", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "msbv-workdir-"));
    try {
      await writeFile(path.join(dir, "file"), "");
      const args = [...SUPERVISOR_NODE_FLAGS, "-e", SUPERVISOR_SCRIPT, "msbv-test", path.join(dir, "file", "work")];
      const error = await SupervisorConnection.launch({
        bwrapPath: process.execPath,
        launch: { command: process.execPath, args, fds: [], bwrapArgv: [process.execPath, ...args] },
        name: "bad-workdir",
      }).then(
        () => undefined,
        (e: unknown) => e as { message: string; hint?: string },
      );
      expect(error?.message).toMatch(
        /^Cannot start sandbox "bad-workdir": its supervisor said: cannot create or enter the workdir .*\/file\/work: ENOTDIR/,
      );
      expect(error?.hint).toMatch(/workdir the sandbox can create/);
      expect(error?.hint).not.toMatch(/bubblewrap/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
