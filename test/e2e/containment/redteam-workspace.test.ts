import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, Workspace, isMsbvError, type PythonSandbox } from "../../../src/index.js";
import { py, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// Files a sandbox leaves in a volume that the host-side Workspace then reads: a sparse file of
// 1.5 GiB (no disk space, but read whole it is 1.5 GB of host memory), a unix socket, a FIFO and
// hard links. Reads must fail with a typed error without holding the file; listings and snapshots
// must not block on or open the special files.

const GIB = 1024 * 1024 * 1024;

describe("redteam: what a sandbox leaves in a volume for the host's Workspace (server as root)", () => {
  let s: ContainmentServer;
  let sb: PythonSandbox;
  let dir: string;

  beforeAll(async () => {
    s = await startContainmentServer("root");
    dir = await s.folder("ws");
    sb = await s.create("ws-trap", { volumes: ["./ws:/workspace"] });
    await py(
      sb,
      [
        "import os, socket",
        "with open('/workspace/sparse', 'wb') as f: f.truncate(1536 * 1024 * 1024)",
        "srv = socket.socket(socket.AF_UNIX); srv.bind('/workspace/sock'); srv.listen(1)",
        "os.mkfifo('/workspace/fifo')",
        "open('/workspace/small.txt', 'w').write('small')",
        "os.link('/workspace/small.txt', '/workspace/hard.txt')",
      ].join("\n"),
    );
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it("W1 a 1.5 GiB sparse file: read() is WORKSPACE_TOO_LARGE and the host's memory does not grow by the file", async () => {
    const ws = await Workspace.open(dir);
    const before = process.memoryUsage().rss;
    const error = await ws.read("sparse").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMsbvError(error) && error.code, String(error)).toBe(ErrorCodes.WORKSPACE_TOO_LARGE);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    // The limit is the caller's: 1 GiB is still under the file, so still refused; an ordinary file
    // reads as before.
    const small = await Workspace.open(dir, { maxReadBytes: 1 * GIB });
    expect(
      await small.read("sparse").then(
        () => "read",
        (e: unknown) => (isMsbvError(e) ? e.code : String(e)),
      ),
    ).toBe(ErrorCodes.WORKSPACE_TOO_LARGE);
    expect(await ws.readText("small.txt")).toBe("small");
  });

  it("W2 a socket, a FIFO and hard links: list and snapshot return, special files are not opened, reads are refused", async () => {
    // The sparse file goes first: snapshot() would hash all 1.5 GiB of it (bounded memory, but time).
    await py(sb, "import os\nos.remove('/workspace/sparse')");
    const ws = await Workspace.open(dir);
    const entries = await ws.list(".");
    const kinds = Object.fromEntries(entries.map((e) => [e.name, e.type]));
    expect(kinds.sock).not.toBe("file");
    expect(kinds.fifo).not.toBe("file");
    const snap = await ws.snapshot().catch((e: unknown) => e);
    expect(snap instanceof Map, String(snap)).toBe(true);
    const keys = [...(snap as Map<string, unknown>).keys()];
    expect(keys).not.toContain("sock");
    expect(keys).not.toContain("fifo");
    for (const rel of ["sock", "fifo"]) {
      const error = await ws.read(rel).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMsbvError(error) && error.code, rel).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    }
    // A hard link is an ordinary file inside the volume (links from outside fail with EXDEV: own-attacks A4);
    // writing one name replaces it (rename), and never writes through to the other.
    await ws.write("hard.txt", "host wrote");
    expect(await ws.readText("small.txt")).toBe("small");
    expect(await ws.readText("hard.txt")).toBe("host wrote");
  }, 120_000);
});
