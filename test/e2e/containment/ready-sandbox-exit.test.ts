import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PythonSandbox } from "../../../src/index.js";
import { MODES, py, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// Attack on the stop path that no longer scans every host process's argv once a sandbox got ready
// (src/server/runtime/supervisor-connection.ts): sandbox code leaves a detached daemon behind
// (double fork, new session) and then makes bubblewrap exit on its own by killing everything it can,
// or is stopped by the client. Nothing of the sandbox may survive anywhere on the host: the scan
// below reads every host process, not only the server's tree.

/** Host pids whose argv carries `marker`. */
async function hostPidsWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(marker)) pids.push(Number(name));
  }
  return pids;
}

async function gone(marker: string): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    const left = await hostPidsWith(marker);
    if (left.length === 0) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return hostPidsWith(marker);
}

/** Python that leaves a session-less grandchild running `sleep` under argv[0] = marker. */
const daemon = (marker: string) => `
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["${marker}", "600"])
    os._exit(0)
time.sleep(0.5)
print("planted")`;

describe.each(MODES)("a ready sandbox's processes after bubblewrap ends (server as %s)", (mode) => {
  let s: ContainmentServer;
  beforeAll(async () => {
    s = await startContainmentServer(mode);
  });
  afterAll(async () => {
    await s?.close();
  });

  it("leaves no daemon behind when sandbox code kills its own supervisor", async () => {
    const marker = `msbv-attack15-selfkill-${mode}`;
    const sandbox: PythonSandbox = await s.create("selfkill");
    expect((await py(sandbox, daemon(marker))).trim()).toBe("planted");
    // Control: the daemon is running and visible on the host before the attack.
    expect((await hostPidsWith(marker)).length).toBe(1);
    await sandbox.run("import os, signal\nif os.fork() == 0:\n    os.kill(-1, signal.SIGKILL)\n    os._exit(0)").catch(() => undefined);
    // The attack worked: the sandbox's supervisor is gone, so bubblewrap ended on its own.
    await expect(py(sandbox, "print('still here')")).rejects.toThrow();
    expect(await gone(marker)).toEqual([]);
    await sandbox.stop().catch(() => undefined);
  });

  it("leaves no daemon behind after a stop", async () => {
    const marker = `msbv-attack15-stop-${mode}`;
    const sandbox: PythonSandbox = await s.create("stopped");
    expect((await py(sandbox, daemon(marker))).trim()).toBe("planted");
    expect((await hostPidsWith(marker)).length).toBe(1);
    await sandbox.stop();
    expect(await gone(marker)).toEqual([]);
  });
});
