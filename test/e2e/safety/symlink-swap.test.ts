import { mkdir, readFile, writeFile, lstat } from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, PythonSandbox, Workspace, isMsbvError } from "../../../src/index.js";
import { startSafetyServer, type SafetyServer } from "../../helpers/safety-fixture.js";

// Escape attempt 3 (see escapes.test.ts for the others): symlink exchange during a host-side read, the
// race behind CVE-2018-15664. The swapping process runs INSIDE a real sandbox; the host reads its
// workspace through Workspace.

let s: SafetyServer;
let a: PythonSandbox;
let wsA: string;
let secretDir: string;

async function py(sb: PythonSandbox, code: string): Promise<string> {
  const exec = await sb.run(code);
  if (exec.hasError()) throw new Error(`sandbox code failed: ${await exec.error()}`);
  return exec.output();
}

beforeAll(async () => {
  s = await startSafetyServer();
  wsA = path.join(s.project, "ws-a");
  secretDir = path.join(s.root, "secret");
  await mkdir(wsA);
  await mkdir(secretDir);
  await writeFile(path.join(secretDir, "f.txt"), "SECRET");
  await writeFile(path.join(s.root, "secret.txt"), "SECRET");
  a = await PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name: "swapper", volumes: ["./ws-a:/workspace"] });
});
afterAll(async () => {
  await a?.stop().catch(() => undefined);
  await s?.close();
});

describe("escape attempts from inside a sandbox (symlink swap race)", () => {
  it("3. a sandbox process swapping a file and a symlink in a loop never makes the host read outside content", async () => {
    // Both the file and the folder are made complete under a temp name and renamed into place, so
    // the only states the host can meet are "INSIDE" (complete) or a symlink to the secret.
    const swapper = [
      "import os, shutil, sys",
      "t, d, secret = '/workspace/swap', '/workspace/swapdir', sys.argv[1]",
      "def unlink(p):",
      "    try: os.unlink(p)",
      "    except FileNotFoundError: pass",
      "first = True",
      "while True:",
      "    with open(t + '.s', 'w') as f: f.write('INSIDE')",
      "    os.replace(t + '.s', t)",
      "    shutil.rmtree(d + '.s', ignore_errors=True)",
      "    os.mkdir(d + '.s')",
      "    with open(d + '.s/f.txt', 'w') as f: f.write('INSIDE')",
      "    unlink(d)",
      "    os.rename(d + '.s', d)",
      "    unlink(t + '.l')",
      "    os.symlink(secret + '.txt', t + '.l')",
      "    os.replace(t + '.l', t)",
      "    shutil.rmtree(d)",
      "    os.symlink(secret, d)",
      "    if first:",
      "        open('/workspace/swapper-ready', 'w').close(); first = False",
    ].join("\n");
    await py(
      a,
      `import subprocess, sys\nswapper = subprocess.Popen([sys.executable, '-c', ${JSON.stringify(swapper)}, ${JSON.stringify(secretDir)}], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)`,
    );
    try {
      for (let i = 0; i < 200; i++) {
        if (
          await lstat(path.join(wsA, "swapper-ready")).then(
            () => true,
            () => false,
          )
        )
          break;
        await sleep(25);
      }
      const ws = await Workspace.open(wsA);
      const seen = { inside: 0, refused: 0, rounds: 0 };
      const other: string[] = [];
      while (seen.rounds < 20_000 && (seen.inside < 30 || seen.refused < 30)) {
        seen.rounds++;
        for (const rel of ["swap", "swapdir/f.txt"]) {
          try {
            const text = await ws.readText(rel);
            if (text === "INSIDE") seen.inside++;
            else other.push(text);
          } catch (e) {
            if (!isMsbvError(e) || (e.code !== ErrorCodes.WORKSPACE_ESCAPE && e.code !== ErrorCodes.WORKSPACE_NOT_FOUND)) throw e;
            seen.refused++;
          }
        }
      }
      expect(other).toEqual([]);
      // Both states were really hit: the race happened.
      expect(seen.inside).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
      // Sanity: a naive host reader that follows symlinks does get the secret here.
      let naive = "";
      for (let i = 0; i < 20_000 && naive !== "SECRET"; i++) naive = await readFile(path.join(wsA, "swap"), "utf8").catch(() => "");
      expect(naive).toBe("SECRET");
      const snap = await ws.snapshot();
      for (const [rel] of snap) expect(await ws.readText(rel).catch(() => "gone")).not.toBe("SECRET");
    } finally {
      await py(a, "swapper.kill(); _ = swapper.wait()");
    }
  });
});
