import { chown, mkdir, open, readdir, readFile, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PythonSandbox } from "../../../src/index.js";
import {
  descendantsOf,
  hostUidsOf,
  MODES,
  pyJson,
  SERVER_MARKER,
  SERVER_MARKER_VALUE,
  startContainmentServer,
  type ContainmentServer,
} from "./containment-fixture.js";

// Issue 11 findings 1 (host root via /proc/sys), 2 (ownership of volume files) and 4 (server
// environment leak), with the dev server run as root and as an ordinary user.

describe.each(MODES)("sandbox identity (server as %s)", (mode) => {
  let s: ContainmentServer;
  let sb: PythonSandbox;
  let ws: string;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    ws = await s.folder("ws");
    sb = await s.create("ident", { volumes: ["./ws:/workspace"] });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("runs as uid 0 inside, but no process of the sandbox is host root (and, as root, not the server's uid)", async () => {
    const inside = await pyJson<{ uid: number; gid: number; map: string }>(
      sb,
      "import os, json\nprint(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'map': open('/proc/self/uid_map').read().split()[:3]}))",
    );
    expect(inside.uid).toBe(0);
    expect(inside.gid).toBe(0);
    // The server's descendants but its pool's attach helper: host root by design (docs/security.md,
    // "Pooled sandboxes"), never inside a sandbox, and running from the moment the pool fills.
    const helper = (pid: number) =>
      readFile(`/proc/${pid}/cmdline`, "utf8").then(
        (cmdline) => cmdline.includes("msbv-attach"),
        () => false,
      );
    const pids: number[] = [];
    for (const pid of await descendantsOf(s.pid)) if (!(await helper(pid))) pids.push(pid);
    expect(pids.length).toBeGreaterThanOrEqual(3); // bwrap, its init, the supervisor, the REPL
    const uids = await hostUidsOf(pids);
    expect(uids.length).toBeGreaterThan(0);
    for (const uid of uids) expect(uid).not.toBe(0);
    if (mode === "user") for (const uid of uids) expect(uid).toBe(s.uid);
    else for (const uid of uids) expect(uid).toBeGreaterThanOrEqual(2_100_000_000);
  });

  it("cannot open kernel.core_pattern or vm.swappiness for writing, nor anything under /sys", async () => {
    const res = await pyJson<Record<string, string>>(
      sb,
      [
        "import json, os",
        "res = {}",
        "for p in ['/proc/sys/kernel/core_pattern', '/proc/sys/vm/swappiness', '/proc/sys/kernel/hostname', '/proc/sysrq-trigger', '/sys/kernel/uevent_helper', '/sys/fs/cgroup/cgroup.procs']:",
        "    try:",
        "        fd = os.open(p, os.O_WRONLY)",
        "        os.close(fd)",
        "        res[p] = 'OPENED'",
        "    except OSError as e:",
        "        res[p] = type(e).__name__",
        "print(json.dumps(res))",
      ].join("\n"),
    );
    for (const [file, outcome] of Object.entries(res)) expect(outcome, file).not.toBe("OPENED");
    if (mode === "root") {
      // Control: the same open as host root (this test process) succeeds; nothing is written.
      const handle = await open("/proc/sys/vm/swappiness", "r+");
      await handle.close();
    }
  });

  it("files written through a volume are owned on the host by the folder's owner", async () => {
    await pyJson(sb, "import json, os\nopen('/workspace/made-inside.txt', 'w').write('x')\nos.mkdir('/workspace/made-dir')\nprint(json.dumps(1))");
    for (const name of ["made-inside.txt", "made-dir"]) {
      const info = await stat(path.join(ws, name));
      expect({ uid: info.uid, gid: info.gid }, name).toEqual({ uid: s.uid, gid: s.gid });
    }
    const seen = await pyJson<{ uid: number }>(sb, "import os, json\nprint(json.dumps({'uid': os.stat('/workspace/made-inside.txt').st_uid}))");
    expect(seen.uid).toBe(0);
    // The idmapped trees live in the launcher's private mount namespace: nothing in the host's table.
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toMatch(/msbv-idmap|idmapped/);
    expect(await readdir("/run/msbv-idmap").catch(() => [])).toEqual([]);
  });

  it("shows none of the server's environment in /proc/1/environ, /proc/self/environ or any process inside", async () => {
    const res = await pyJson<{ hits: string[]; pids: number }>(
      sb,
      [
        "import json, os",
        "hits, pids = [], 0",
        "for pid in os.listdir('/proc'):",
        "    if not pid.isdigit(): continue",
        "    pids += 1",
        "    try: env = open(f'/proc/{pid}/environ', 'rb').read()",
        "    except OSError: continue",
        `    if b${JSON.stringify(SERVER_MARKER)} in env or b${JSON.stringify(SERVER_MARKER_VALUE)} in env: hits.append(pid)`,
        `if ${JSON.stringify(SERVER_MARKER)} in os.environ: hits.append('os.environ')`,
        "print(json.dumps({'hits': hits, 'pids': pids, 'one': open('/proc/1/environ','rb').read().decode()}))",
      ].join("\n"),
    );
    expect(res.pids).toBeGreaterThanOrEqual(2);
    expect(res.hits).toEqual([]);
  });
});

describe("volume owned by a third user (server as root)", () => {
  let s: ContainmentServer;
  afterAll(async () => {
    await s?.close();
  });

  it("a file written inside lands owned by that folder's owner, not root and not the sandbox uid", async () => {
    s = await startContainmentServer("root");
    const dir = path.join(s.project, "alice");
    await mkdir(dir);
    await chown(dir, 4242, 4343);
    await writeFile(path.join(dir, "seed.txt"), "seed");
    await chown(path.join(dir, "seed.txt"), 4242, 4343);
    const sb = await s.create("third", { volumes: ["./alice:/data"] });
    const res = await pyJson<{ owner: number; wrote: boolean }>(
      sb,
      "import os, json\nopen('/data/new.txt','w').write('y')\nprint(json.dumps({'owner': os.stat('/data/seed.txt').st_uid, 'wrote': True}))",
    );
    expect(res).toEqual({ owner: 0, wrote: true });
    const info = await stat(path.join(dir, "new.txt"));
    expect({ uid: info.uid, gid: info.gid }).toEqual({ uid: 4242, gid: 4343 });
  });
});
