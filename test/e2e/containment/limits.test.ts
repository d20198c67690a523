import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PythonSandbox } from "../../../src/index.js";
import { descendantsOf, MODES, py, pyJson, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// Issue 11 finding 13: `memory = 256` must stop a 2 GiB allocation, and a fork bomb must hit a
// process limit (the test forks at most 1000 children and kills them all).

describe.each(MODES)("limits (server as %s)", (mode) => {
  let s: ContainmentServer;
  let sb: PythonSandbox;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    sb = await s.create("limited", { memory: 256 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("a 2 GiB allocation (written, not just reserved) fails or is killed in a memory = 256 sandbox", async () => {
    const exec = await sb.run("x = b'\\x01' * (2 << 30)\nprint('ALLOCATED', len(x))");
    const out = await exec.output();
    expect(out).not.toContain("ALLOCATED");
    // Control: a modest allocation in the same sandbox works once the REPL is back.
    const ok = await sb.run("y = b'\\x01' * (64 << 20)\nprint('OK', len(y))");
    expect(await ok.output()).toContain("OK 67108864");
  });

  it("the sandbox's processes carry its limits: cgroup v1 groups as root, rlimits as an ordinary user", async () => {
    const pids: number[] = [];
    for (const pid of await descendantsOf(s.pid)) {
      if ((await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes("msbv-sandbox:limited")) pids.push(pid);
    }
    expect(pids.length).toBeGreaterThan(0);
    const limits = await readFile(`/proc/${pids[0]}/limits`, "utf8");
    expect(limits).toMatch(/^Max core file size\s+0\s+0\s/m);
    if (mode === "root") {
      const leaves = (await readdir("/sys/fs/cgroup/memory/msbv").catch(() => [])).filter((leaf) => leaf.startsWith("limited-"));
      expect(leaves).toHaveLength(1);
      const leaf = leaves[0]!;
      expect((await readFile(`/sys/fs/cgroup/memory/msbv/${leaf}/memory.limit_in_bytes`, "utf8")).trim()).toBe(String(256 << 20));
      expect((await readFile(`/sys/fs/cgroup/pids/msbv/${leaf}/pids.max`, "utf8")).trim()).toBe("256");
      const procs = (await readFile(`/sys/fs/cgroup/pids/msbv/${leaf}/cgroup.procs`, "utf8")).trim().split("\n").map(Number);
      for (const pid of pids) expect(procs).toContain(pid);
      expect(limits).toMatch(/^Max processes\s+256\s+256\s/m);
    } else {
      expect(limits).toMatch(new RegExp(`^Max data size\\s+${256 << 20}\\s+${256 << 20}\\s`, "m"));
      expect(limits).toMatch(/^Max processes\s+\d+\s+\d+\s/m);
    }
  });

  it("1000 forks do not all go through", async () => {
    const res = await pyJson<{ started: number; error: string }>(
      sb,
      [
        "import errno, json, os, signal, time",
        "kids, error = [], ''",
        "for i in range(1000):",
        "    try:",
        "        pid = os.fork()",
        "    except OSError as e:",
        "        error = errno.errorcode.get(e.errno, str(e.errno)); break",
        "    if pid == 0:",
        "        time.sleep(60); os._exit(0)",
        "    kids.append(pid)",
        "for pid in kids: os.kill(pid, signal.SIGKILL)",
        "for pid in kids: os.waitpid(pid, 0)",
        "print(json.dumps({'started': len(kids), 'error': error}))",
      ].join("\n"),
    );
    expect(res.started).toBeLessThan(1000);
    expect(res.error).toBe("EAGAIN");
    // The sandbox still works after the bomb was cleaned up.
    expect((await py(sb, "print(6 * 7)")).trim()).toBe("42");
  });
});
