import { readdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyVolumeMounts } from "../../../src/server/runtime/containment/verify-mounts.js";
import { MODES, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// The post-setup check (containment/verify-mounts.ts) against a real sandbox's mount table, read
// from the host like the server does: the real nested layout passes, and the same table judged
// for a layout it does not have (the nested volume expected elsewhere, as after a followed
// symlink) is refused. The race itself is in redteam-nested-race.test.ts.

async function supervisorPids(name: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0");
    // bubblewrap's own argv names the label too; the supervisor's script text may mention bwrap.
    if (argv.some((arg) => arg.startsWith(`msbv-sandbox:${name}:`)) && path.basename(argv[0] ?? "") !== "bwrap") pids.push(Number(entry));
  }
  return pids;
}

describe.each(MODES)("post-setup mount check on a live nested sandbox (server as %s)", (mode) => {
  let s: ContainmentServer;
  let ws: string;
  let tools: string;
  beforeAll(async () => {
    s = await startContainmentServer(mode);
    ws = await s.folder("ws");
    tools = await s.folder("tools");
    await writeFile(path.join(tools, "marker"), "TOOLS");
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it("passes for the real layout and refuses the table when the nested volume is expected elsewhere", async () => {
    const sb = await s.create("nest-verify", { volumes: ["./ws:/w", "./tools:/w/skills"] });
    try {
      const pids = await supervisorPids("nest-verify");
      expect(pids.length).toBeGreaterThan(0);
      const real = [
        { host: ws, guest: "/w" },
        { host: tools, guest: "/w/skills" },
      ];
      for (const pid of pids) expect(() => verifyVolumeMounts("nest-verify", [pid], real)).not.toThrow();
      expect(() => verifyVolumeMounts("nest-verify", pids, real)).not.toThrow();
      // Tables are read once per mount namespace and root, not once for all: a process in another
      // namespace (this host process) is read too, and its table has no /w.
      expect(() => verifyVolumeMounts("nest-verify", [...pids, process.pid], real)).toThrow(/is not mounted at \/w /);
      // Same mount table, but the nested volume "should" be at /w/elsewhere: its mount at /w/skills is
      // now a mount at another point, and nothing is at the expected one.
      const moved = [
        { host: ws, guest: "/w" },
        { host: tools, guest: "/w/elsewhere" },
      ];
      expect(() => verifyVolumeMounts("nest-verify", [pids[0] as number], moved)).toThrow(/not mounted at \/w\/elsewhere.*a symlink was swapped in/);
    } finally {
      await sb.stop();
    }
  }, 120_000);
});
