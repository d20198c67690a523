import { spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { orphansWithArgv } from "../../../../src/server/runtime/proc-tree.js";

describe("orphansWithArgv", () => {
  it("finds a re-parented process by its exact argv, and not a live child of ours", async () => {
    const argv = ["/bin/sleep", `30.${process.pid}${Date.now() % 1000}`];
    // A child of ours with that argv is our own live process: never reported.
    const own = spawn(argv[0] as string, argv.slice(1), { stdio: "ignore" });
    // A grandchild whose parent exits is re-parented: that is the leftover shape.
    const forker = spawn(
      "/usr/bin/python3",
      ["-c", `import os\nif os.fork() == 0:\n    os.execv(${JSON.stringify(argv[0])}, ${JSON.stringify(argv)})`],
      { stdio: "ignore" },
    );
    await once(forker, "exit");
    try {
      let found: number[] = [];
      for (let i = 0; i < 50 && found.length === 0; i++) {
        found = (await orphansWithArgv(argv)).map((stat) => stat.pid);
        if (found.length === 0) await sleep(20);
      }
      expect(found).toHaveLength(1);
      expect(found).not.toContain(own.pid);
      expect(await orphansWithArgv([...argv, "other"])).toEqual([]);
      for (const pid of found) process.kill(pid, "SIGKILL");
    } finally {
      own.kill("SIGKILL");
    }
  });
});
