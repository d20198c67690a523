import { execFile, spawn } from "node:child_process";
import { chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distEntry } from "../../helpers/safety-fixture.js";
import { ensureTestUser, MODES, RENAME_SWAP_LOOP, type ServerMode } from "./containment-fixture.js";

// Issue 11 finding 2 at the runtime's seam: while the runtime starts a sandbox whose volume is
// <shared>/target, another process of the same user (what a sandbox sharing <shared> can do) swaps
// `target` with a symlink to a secret folder (renameat2 RENAME_EXCHANGE) in a tight loop. Every
// start must mount the real folder or be refused; the secret must never be mounted.
// This test pins the runtime's guarantee (it never resolves a name again); the same race end to end
// (dev server, raw JSON-RPC and the client) is redteam-mount-race.test.ts.

const SWAPPER = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
pairs = [(sys.argv[1].encode(), sys.argv[2].encode())]
${RENAME_SWAP_LOOP}`;

// A round passes only if every look at the path (the check, the walk, bubblewrap's own re-check as
// a user) meets the folder; the swapper's rests make that common, its bursts make refusals common.
const ROUNDS = 40;

describe.each(MODES)("mount redirection race at the runtime (as %s)", (mode: ServerMode) => {
  let root: string;
  let ids: { uid: number; gid: number };

  beforeAll(async () => {
    ids = mode === "root" ? { uid: 0, gid: 0 } : await ensureTestUser();
    root = await mkdtemp(path.join(tmpdir(), `msbv-race-${mode}-`));
    const shared = path.join(root, "shared");
    const secret = path.join(root, "secret");
    await mkdir(path.join(shared, "target"), { recursive: true });
    await writeFile(path.join(shared, "target", "marker"), "GOOD");
    await mkdir(secret);
    await writeFile(path.join(secret, "marker"), "SECRET");
    await symlink(secret, path.join(shared, "evil"));
    await mkdir(path.join(root, "state"));
    await promisify(execFile)("chown", ["-R", "-h", `${ids.uid}:${ids.gid}`, root]);
    await chown(root, ids.uid, ids.gid);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("mounts the real folder or refuses, never the symlink's target", async () => {
    const shared = path.join(root, "shared");
    const swapper = spawn("/usr/bin/python3", ["-c", SWAPPER, path.join(shared, "target"), path.join(shared, "evil")], {
      uid: ids.uid,
      gid: ids.gid,
      stdio: "ignore",
    });
    try {
      const child = spawn(
        process.execPath,
        [
          path.join(import.meta.dirname, "fixtures", "race-child.mjs"),
          await distEntry("server/index.js").then((f) => path.join(path.dirname(f), "runtime", "index.js")),
          path.join(root, "state"),
          path.join(shared, "target"),
          String(ROUNDS),
        ],
        {
          uid: ids.uid,
          gid: ids.gid,
          env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      expect(code, err).toBe(0);
      const seen = JSON.parse(out.trim()) as { good: number; refused: number; other: string[]; reasons: string[] };
      expect(seen.other, JSON.stringify(seen.reasons)).toEqual([]);
      expect(seen.good + seen.refused).toBe(ROUNDS);
      // The race was really on: some starts met the symlink (refused) and some the folder.
      expect(seen.refused, JSON.stringify(seen)).toBeGreaterThan(0);
      expect(seen.good, JSON.stringify(seen)).toBeGreaterThan(0);
      // Refusals are typed host-path errors: the symlink met on the way (DENIED), a swapped
      // component seen as "not a folder" (INVALID), or bubblewrap's own re-check of the fd (DENIED).
      for (const reason of seen.reasons) expect(reason, reason).toMatch(/^MSBV_HOST_PATH_(DENIED|INVALID) /);
      // They reach the caller as a 400: none says where the planted symlink leads, nor what bwrap said.
      for (const reason of seen.reasons) expect(reason, reason).not.toMatch(new RegExp(`${path.join(root, "secret")}|bwrap said`));
      // Control: binding by path (what the runtime did before) does get the secret under this race.
      let naive = "";
      for (let i = 0; i < 300 && naive !== "SECRET"; i++) {
        const bwrap = await promisify(execFile)(
          "bwrap",
          ["--ro-bind", "/", "/", "--bind", path.join(shared, "target"), "/mnt", "cat", "/mnt/marker"],
          { uid: ids.uid, gid: ids.gid },
        ).catch(() => ({ stdout: "" }));
        naive = bwrap.stdout.trim();
      }
      expect(naive).toBe("SECRET");
    } finally {
      swapper.kill("SIGKILL");
    }
  }, 180_000);
});
