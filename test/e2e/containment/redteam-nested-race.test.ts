import { execFile } from "node:child_process";
import { lstat, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PythonSandbox } from "../../../src/index.js";
import { errorText, rawRpc, rawStart } from "../../helpers/raw-rpc.js";
import { MODES, py, startContainmentServer, startRenameSwapper, type ContainmentServer } from "./containment-fixture.js";

// Nested volumes under a shared parent: B mounts `ws` at /w and its own `tools` at /w/skills (and
// `tools2` at /w/made). bubblewrap creates and mounts the nested mount point BY PATH inside the
// parent volume, a tree sandbox A writes. A swaps the real mount-point folders with symlinks in a
// loop (RENAME_EXCHANGE): `skills` <-> `-> ../etc` (B's tools would land on B's /etc: whoever writes
// tools then owns B's /etc/ld.so.preload) and `made` <-> `-> /oldroot/tmp/<x>` (bubblewrap, during
// setup, would create that folder on the HOST). B must get its volumes where it asked or be refused,
// and no host folder may appear. A won race ends in the post-setup check (containment/verify-mounts.ts):
// "a symlink was swapped in at the mount point"; winning it is luck, so it is counted, not required.

// Bounded: RAW_ROUNDS starts, and up to MAX_ROUNDS until at least one start succeeded and one was refused.
const RAW_ROUNDS = 10;
const MAX_ROUNDS = 80;

describe.each(MODES)("nested mount point swapped by the parent volume's sandbox (server as %s)", (mode) => {
  let s: ContainmentServer;
  let a: PythonSandbox;
  let ws: string;
  let fixedPoints: string[] = [];
  const hostMade = `/tmp/msbv-redteam-made-${randomBytes(6).toString("hex")}`;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    ws = await s.folder("ws");
    for (const name of ["tools", "tools2"]) {
      const dir = await s.folder(name);
      await writeFile(path.join(dir, "marker"), name.toUpperCase());
    }
    await mkdir(path.join(ws, "skills"));
    await mkdir(path.join(ws, "made"));
    await symlink("../etc", path.join(ws, "skillslink"));
    await symlink(`/oldroot${hostMade}/x`, path.join(ws, "madelink"));
    await promisify(execFile)("chown", ["-R", "-h", `${s.uid}:${s.gid}`, s.project]);
    // Baseline before any swap: the mount points B has outside /w when nothing interferes.
    const base = await s.create("nest-base", { volumes: ["./ws:/w", "./tools:/w/skills", "./tools2:/w/made"] });
    fixedPoints = (await py(base, "print('\\n'.join(l.split()[4] for l in open('/proc/self/mountinfo')))"))
      .trim()
      .split("\n")
      .filter((p) => p !== "/w" && !p.startsWith("/w/"));
    expect(fixedPoints).toContain("/etc/passwd");
    expect(fixedPoints).not.toContain("/etc");
    await base.stop();
    a = await s.create("nest-a", { volumes: ["./ws:/workspace"] });
    await startRenameSwapper(a, "/workspace", ws, [
      ["skills", "skillslink"],
      ["made", "madelink"],
    ]);
  }, 120_000);
  afterAll(async () => {
    await a?.run("swapper.kill(); _ = swapper.wait()").catch(() => undefined);
    await s?.close();
    await rm(hostMade, { recursive: true, force: true });
  });

  it(`raw JSON-RPC: ${RAW_ROUNDS} starts never put B's nested volume on its /etc, nor create a host folder`, async () => {
    const seen = { good: 0, refused: 0, other: [] as string[], reasons: [] as string[] };
    let round = 0;
    for (; round < MAX_ROUNDS && (round < RAW_ROUNDS || seen.good === 0 || seen.refused === 0); round++) {
      const name = `nest-b-${round}`;
      // One nested mount per start, alternating, so one swapped mount point cannot fail the other's start.
      const nested = round % 2 === 0 ? `${path.join(s.project, "tools")}:/w/skills` : `${path.join(s.project, "tools2")}:/w/made`;
      const started = await rawStart(s.url, name, { volumes: [`${ws}:/w`, nested] });
      if (started.status !== 200 || started.body.error !== undefined) {
        seen.refused++;
        if (seen.reasons.length < 6) seen.reasons.push((errorText(started) || JSON.stringify(started.body.error)).slice(0, 200));
        continue;
      }
      // A keeps swapping in B's view too (the parent is shared live), so B looks at where its mounts
      // are: every mount point below /w or at a fixed system path; and /etc must still be B's own.
      const code = [
        "import json, os",
        "points = [l.split()[4] for l in open('/proc/self/mountinfo')]",
        "print(json.dumps({'etcMarker': os.path.exists('/etc/marker'), 'passwd': os.path.exists('/etc/passwd'), 'odd': [p for p in points if p not in FIXED and not p.startswith('/w/') and p != '/w']}))",
      ]
        .join("\n")
        .replace("FIXED", JSON.stringify(fixedPoints));
      const out = await rawRpc(s.url, "sandbox.repl.run", { sandbox: name, language: "python", code });
      const result = out.body.result as { output?: Array<{ stream: string; text: string }> } | undefined;
      const text = (result?.output ?? [])
        .filter((l) => l.stream === "stdout")
        .map((l) => l.text)
        .join("")
        .trim();
      if (text === JSON.stringify({ etcMarker: false, passwd: true, odd: [] }).replaceAll(",", ", ").replaceAll(":", ": ")) seen.good++;
      else seen.other.push(text || JSON.stringify(out.body));
      await rawRpc(s.url, "sandbox.stop", { sandbox: name });
    }
    console.log(
      "STATS",
      JSON.stringify({ ...seen, reasons: undefined, caughtAfterSetup: s.logs.filter((l) => /a symlink was swapped in/.test(l)).length }),
      s.logs
        .filter((l) => /could not start/.test(l))
        .map((l) => l.slice(0, 300))
        .slice(-6),
    );
    const madeOnHost = await lstat(hostMade).then(
      () => true,
      () => false,
    );
    expect({ other: seen.other, madeOnHost }, JSON.stringify(seen)).toEqual({ other: [], madeOnHost: false });
    expect(seen.good + seen.refused).toBe(round);
    expect(seen.refused, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(seen.good, JSON.stringify(seen)).toBeGreaterThan(0);
  }, 300_000);
});
