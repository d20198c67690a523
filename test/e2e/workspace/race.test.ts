import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes, isMsbvError } from "../../../src/errors/index.js";
import { Workspace, type WalkStrategy } from "../../../src/workspace/index.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

// A separate process swaps a path between "safe" and "symlink pointing outside" as fast as it can,
// while this process reads or writes through the Workspace. Real concurrency (another process), so the
// check-then-open window is actually hit; the sanity test proves a naive reader does leak here.
const SWAPPER = `
const fs = require("fs");
const [target, safeKind, outsideTarget] = process.argv.slice(1);
const tmpSafe = target + ".swap-safe", tmpLink = target + ".swap-link";
let first = true;
for (;;) {
  if (safeKind === "dir") { fs.rmSync(tmpSafe, { recursive: true, force: true }); fs.mkdirSync(tmpSafe); fs.writeFileSync(tmpSafe + "/f.txt", "INSIDE"); }
  else fs.writeFileSync(tmpSafe, "INSIDE");
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(tmpSafe, target);
  try { fs.unlinkSync(tmpLink); } catch {}
  fs.symlinkSync(outsideTarget, tmpLink);
  if (safeKind === "dir") fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(tmpLink, target);
  if (first) { process.stdout.write("ready\\n"); first = false; }
}`;

const MAX_ROUNDS = 20_000;
const ENOUGH = 30;

describe("Workspace under a concurrent symlink swap", () => {
  let tmp: string;
  let tmpDir: TempDir;
  let root: string;
  let outside: string;
  let swapper: ChildProcess | undefined;

  beforeEach(async () => {
    tmpDir = await tempDir("msbv-race-");
    tmp = tmpDir.path;
    root = path.join(tmp, "root");
    outside = path.join(tmp, "outside");
    await mkdir(root);
    await mkdir(outside);
    await writeFile(path.join(outside, "secret.txt"), "SECRET");
    await writeFile(path.join(outside, "f.txt"), "SECRET");
  });

  afterEach(async () => {
    if (swapper && swapper.exitCode === null && swapper.signalCode === null) {
      const exited = once(swapper, "exit");
      swapper.kill("SIGKILL");
      await exited;
    }
    swapper = undefined;
    await tmpDir.remove();
  });

  async function startSwapper(target: string, kind: "file" | "dir", outsideTarget: string): Promise<void> {
    const child = spawn(process.execPath, ["-e", SWAPPER, target, kind, outsideTarget], { stdio: ["ignore", "pipe", "inherit"] });
    swapper = child;
    const [chunk] = (await once(child.stdout, "data")) as [Buffer];
    expect(chunk.toString()).toContain("ready");
  }

  /** Reads until both outcomes were seen often enough; returns what was seen. */
  async function hammer(read: () => Promise<string>) {
    const seen = { inside: 0, refused: 0, secret: 0, rounds: 0 };
    while (seen.rounds < MAX_ROUNDS && (seen.inside < ENOUGH || seen.refused < ENOUGH)) {
      seen.rounds++;
      try {
        const text = await read();
        if (text === "SECRET") seen.secret++;
        else if (text === "INSIDE") seen.inside++;
      } catch (e) {
        if (isMsbvError(e) && (e.code === ErrorCodes.WORKSPACE_ESCAPE || e.code === ErrorCodes.WORKSPACE_NOT_FOUND)) seen.refused++;
        else if (!isMsbvError(e))
          seen.refused++; // naive reader: ENOENT mid-swap
        else throw e;
      }
    }
    return seen;
  }

  it.each<["file" | "dir", string]>([
    ["file", "file.txt"],
    ["dir", "d/f.txt"],
  ])("sanity: a naive fs.readFile leaks the outside file (%s swap)", async (kind, rel) => {
    const target = path.join(root, rel);
    await startSwapper(kind === "file" ? target : path.join(root, "d"), kind, kind === "file" ? path.join(outside, "secret.txt") : outside);
    let secret = 0;
    for (let i = 0; i < MAX_ROUNDS && secret === 0; i++) {
      secret += await readFile(target, "utf8").then(
        (t) => (t === "SECRET" ? 1 : 0),
        () => 0,
      );
    }
    expect(secret).toBeGreaterThan(0);
  });

  it.each<WalkStrategy>(["procfd", "path"])("read() never returns the outside file when the final component is swapped (%s)", async (strategy) => {
    const ws = await Workspace.open(root, { strategy });
    await startSwapper(path.join(root, "file.txt"), "file", path.join(outside, "secret.txt"));
    const seen = await hammer(() => ws.readText("file.txt"));
    expect(seen.secret).toBe(0);
    expect(seen.inside).toBeGreaterThanOrEqual(ENOUGH);
    expect(seen.refused).toBeGreaterThanOrEqual(ENOUGH);
  });

  it("read() never returns the outside file when an intermediate folder is swapped (procfd)", async () => {
    const ws = await Workspace.open(root, { strategy: "procfd" });
    await startSwapper(path.join(root, "d"), "dir", outside);
    const seen = await hammer(() => ws.readText("d/f.txt"));
    expect(seen.secret).toBe(0);
    expect(seen.inside).toBeGreaterThanOrEqual(ENOUGH);
    expect(seen.refused).toBeGreaterThanOrEqual(ENOUGH);
  });

  it("write() never writes through a symlink swapped in at the target", async () => {
    const ws = await Workspace.open(root, { strategy: "procfd" });
    const secretPath = path.join(outside, "secret.txt");
    await startSwapper(path.join(root, "file.txt"), "file", secretPath);
    let written = 0;
    let refused = 0;
    for (let i = 0; i < 2_000 && (written < ENOUGH || refused < ENOUGH); i++) {
      try {
        await ws.write("file.txt", "OVERWRITTEN");
        written++;
      } catch (e) {
        if (isMsbvError(e) && e.code === ErrorCodes.WORKSPACE_ESCAPE) refused++;
        else throw e;
      }
    }
    expect(written).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(await readFile(secretPath, "utf8")).toBe("SECRET");
  });

  it("snapshot() under a concurrent swap never fails and never hashes the outside file", async () => {
    const ws = await Workspace.open(root, { strategy: "procfd" });
    await writeFile(path.join(root, "stable.txt"), "STABLE");
    await startSwapper(path.join(root, "file.txt"), "file", path.join(outside, "secret.txt"));
    const secretSha = createHash("sha256").update("SECRET").digest("hex");
    let present = 0;
    let absent = 0;
    for (let i = 0; i < 5_000 && (present < 10 || absent < 10); i++) {
      const snap = await ws.snapshot();
      expect(snap.get("stable.txt")?.size).toBe(6);
      for (const d of snap.values()) expect(d.sha256).not.toBe(secretSha);
      if (snap.get("file.txt")?.sha256 === createHash("sha256").update("INSIDE").digest("hex")) present++;
      else absent++;
    }
    expect(present).toBeGreaterThan(0);
    expect(absent).toBeGreaterThan(0);
  });
});
