import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { chown, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors/index.js";
import { createBwrapRuntime } from "../../../src/server/runtime/index.js";
import { ATTACH_SERVER_SCRIPT } from "../../../src/server/runtime/pool/attach-script.js";
import { launchPooledForTest, type PooledForTest } from "../../helpers/pool-fixture.js";
import { startRuntimeChild } from "../../helpers/runtime-child.js";
import { tempDir } from "../../helpers/temp-dir.js";
import { createRuntimeFixture, processesMentioning, sandboxProcessesMentioning, stdout, type RuntimeFixture } from "../../helpers/runtime-fixture.js";

// The pool of pre-started sandboxes (src/server/runtime/pool): with the server as root, a create
// for a name without state takes a waiting sandbox. It must be the same sandbox a cold start gives
// (mounts, user, hostname, environment, workdir, empty /tmp), hold the name's state afterwards,
// never be handed out twice, and refuse the same mount-point tricks.

const isRoot = process.getuid?.() === 0;

/** What a sandbox looks like from inside, minus what differs between any two sandboxes (ids, paths of state). */
const PROBE = String.raw`
import os, socket, json, sys, locale
mounts = []
for line in open("/proc/self/mountinfo"):
    f = line.split(" ")
    sep = f.index("-")
    mounts.append([f[4], f[5], f[sep + 1]])
print(json.dumps({
  "mounts": mounts, "host": socket.gethostname(), "cwd": os.getcwd(), "uid": os.getuid(), "gid": os.getgid(),
  "env": dict(os.environ), "tmp": os.listdir("/tmp"), "label": open("/proc/1/cmdline").read().split("\0")[-3],
  "sysPath": sys.path, "flags": repr(sys.flags), "encoding": [locale.getpreferredencoding(False), sys.stdout.encoding],
  "childEnv": dict(line.split("=", 1) for line in os.popen("env").read().splitlines() if "=" in line),
}))`;

interface Probe {
  mounts: string[][];
  host: string;
  cwd: string;
  uid: number;
  gid: number;
  env: Record<string, string>;
  tmp: string[];
  label: string;
  sysPath: string[];
  flags: string;
  encoding: string[];
  childEnv: Record<string, string>;
}

async function probe(fixture: RuntimeFixture, name: string): Promise<Probe> {
  return JSON.parse(stdout(await fixture.runtime.runRepl(name, "python", PROBE))) as Probe;
}

describe.runIf(isRoot)("pre-started sandbox pool (server as root)", () => {
  let fixture: RuntimeFixture;
  beforeEach(async () => {
    fixture = await createRuntimeFixture({ poolSize: 2 });
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  /** Starts `name`, first making sure the pool is full, so the start is a claim. */
  async function startPooled(name: string, overrides: Parameters<RuntimeFixture["spec"]>[1] = {}): Promise<Probe> {
    await fixture.runtime.pool?.filled();
    expect(fixture.runtime.pool?.ready).toBe(2);
    await fixture.runtime.start(fixture.spec(name, overrides));
    return probe(fixture, name);
  }

  it("gives a pooled sandbox exactly what a cold start gives", async () => {
    const ws = await fixture.newDir("ws");
    await mkdir(path.join(ws, "skills"));
    const volumes = [
      { host: ws, guest: "/workspace" },
      { host: path.join(ws, "skills"), guest: "/workspace/skills", readonly: true },
    ];
    const overrides = { volumes, envs: ["FOO=bar", "PATH=/custom/bin:/usr/bin:/bin"], workdir: "/workspace" };
    // The first start of an image is cold (the pool fills for images asked for); the second is pooled.
    await fixture.runtime.start(fixture.spec("cold", overrides));
    const cold = await probe(fixture, "cold");
    const pooled = await startPooled("pooled", overrides);
    expect(cold.label).toMatch(/^msbv-sandbox:cold:/);
    expect(pooled.label).toMatch(/^msbv-sandbox:\.pool-/);
    expect(pooled.mounts).toEqual(cold.mounts);
    // Parent before child, both nosuid/nodev, as a cold start mounts them.
    expect(pooled.mounts.filter(([point]) => point?.startsWith("/workspace")).map(([point]) => point)).toEqual(["/workspace", "/workspace/skills"]);
    expect(pooled.mounts.find(([p]) => p === "/workspace")?.[1]).toMatch(/^rw,nosuid,nodev/);
    expect(pooled.mounts.find(([p]) => p === "/workspace/skills")?.[1]).toMatch(/^ro,/);
    expect({ ...pooled, label: "", host: "", mounts: [] }).toEqual({ ...cold, label: "", host: "", mounts: [] });
    expect(pooled.host).toBe("pooled");
    expect(pooled.env["FOO"]).toBe("bar");
    expect(pooled.env["PATH"]).toBe("/custom/bin:/usr/bin:/bin");
    expect(pooled.cwd).toBe("/workspace");
    expect(pooled.tmp).toEqual([]);
    // Writes land on the host; the read-only volume refuses them.
    const out = stdout(
      await fixture.runtime.runRepl(
        "pooled",
        "python",
        "open('from-pool.txt', 'w').write('x')\ntry:\n    open('/workspace/skills/f', 'w')\nexcept OSError as e:\n    print('refused', e.errno)",
      ),
    );
    expect(out).toContain("refused 30");
    expect(await readFile(path.join(ws, "from-pool.txt"), "utf8")).toBe("x");
    expect(await readdir(path.join(ws, "skills"))).toEqual([]);
  });

  it("gives a claimed sandbox no way to undo or loosen the mounts moved in, nor to make a set-id file on a root-owned volume", async () => {
    // The helper idmaps a root-owned folder through the sandbox's own user namespace and moves it into
    // the sandbox's mount namespace as host root, so those mounts are not locked as a cold start's
    // are: what keeps them is that nothing in the sandbox has a capability in that namespace.
    const ws = await fixture.newDir("ws");
    await mkdir(path.join(ws, "skills"));
    expect((await stat(ws)).uid).toBe(0);
    await fixture.runtime.start(fixture.spec("warmup"));
    const claimed = await startPooled("claimed", {
      volumes: [
        { host: ws, guest: "/workspace" },
        { host: path.join(ws, "skills"), guest: "/workspace/skills", readonly: true },
      ],
    });
    expect(claimed.label).toMatch(/^msbv-sandbox:\.pool-/);
    const code = `
import ctypes, os, json
libc = ctypes.CDLL(None, use_errno=True)
def errno(result): return 0 if result == 0 else ctypes.get_errno()
out = {"caps": [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapBnd"))]}
out["umount"] = errno(libc.umount2(b"/workspace/skills", 2))
out["remount rw"] = errno(libc.mount(None, b"/workspace/skills", None, 0x20 | 0x1000, None))
out["remount suid"] = errno(libc.mount(None, b"/workspace", None, 0x20 | 0x1000, None))
_ = open("/workspace/tool", "w").write("x")
try:
    os.chmod("/workspace/tool", 0o6755)
except OSError as e:
    pass
out["mounts"] = [l.split()[4] + " " + l.split()[5] for l in open("/proc/self/mountinfo") if " /workspace" in l]
print(json.dumps(out))`;
    const seen = JSON.parse(stdout(await fixture.runtime.runRepl("claimed", "python", code))) as Record<string, unknown>;
    expect(seen["caps"]).toEqual(["0000000000000000", "0000000000000000"]);
    expect(seen["umount"]).not.toBe(0);
    expect(seen["remount rw"]).not.toBe(0);
    expect(seen["remount suid"]).not.toBe(0);
    expect(seen["mounts"]).toEqual([
      expect.stringMatching(/^\/workspace rw,nosuid,nodev/),
      expect.stringMatching(/^\/workspace\/skills ro,nosuid,nodev/),
    ]);
    // The file is host root's (the folder's owner), but never set-id.
    const tool = await stat(path.join(ws, "tool"));
    expect(tool.uid).toBe(0);
    expect(tool.mode & 0o6000).toBe(0);
  });

  it("makes the slot the name's state: it persists across stop/start, and a name with state starts cold", async () => {
    await fixture.runtime.start(fixture.spec("warmup"));
    await startPooled("keeper");
    await fixture.runtime.runRepl(
      "keeper",
      "python",
      "import os\nos.mkdir('/data')\nopen('/data/kept', 'w').write('1')\nopen(os.path.expanduser('~/h'), 'w').write('2')",
    );
    await fixture.runtime.stop("keeper");
    await fixture.runtime.pool?.filled();
    expect(fixture.runtime.pool?.ready).toBe(2);
    await fixture.runtime.start(fixture.spec("keeper"));
    const again = await probe(fixture, "keeper");
    expect(again.label).toMatch(/^msbv-sandbox:keeper:/);
    // A name with state is never given a waiting sandbox: the pool is untouched.
    expect(fixture.runtime.pool?.ready).toBe(2);
    expect(
      stdout(
        await fixture.runtime.runRepl("keeper", "python", "import os\nprint(open('/data/kept').read() + open(os.path.expanduser('~/h')).read())"),
      ),
    ).toBe("12");
  });

  it("never hands out a sandbox twice and leaves no slot or process behind", async () => {
    await fixture.runtime.start(fixture.spec("first"));
    const seen = new Set<string>();
    for (const name of ["p1", "p2", "p3", "p4"]) {
      const p = await startPooled(name);
      expect(p.label).toMatch(/^msbv-sandbox:\.pool-/);
      expect(seen.has(p.label)).toBe(false);
      seen.add(p.label);
      // Each one runs as its own host uid: nothing shared with the sandbox before it.
      const uids = new Set<string>();
      for (const pid of await processesMentioning(p.label.split(":")[1]!)) {
        const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
        const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
        if (uid) uids.add(uid);
        // Filled at nice 19 in the background; a claimed sandbox runs at normal priority.
        const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
        if (stat) expect(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16])).toBe(0);
      }
      expect(uids.size).toBe(1);
      const [uid] = [...uids];
      expect(Number(uid)).toBeGreaterThan(0);
      expect(seen.has(`uid ${uid}`)).toBe(false);
      seen.add(`uid ${uid}`);
      await fixture.runtime.runRepl(name, "python", "open('/tmp/mine', 'w').write('secret')");
    }
    for (const name of ["p5", "p6"]) expect((await startPooled(name)).tmp).toEqual([]);
    await fixture.runtime.shutdown();
    expect((await readdir(fixture.stateDir)).filter((entry) => entry.startsWith(".pool-"))).toEqual([]);
    expect(await processesMentioning(fixture.stateDir)).toEqual([]);
  });

  it("has the attach helper running before the first claim", async () => {
    // This runtime's helper: its last argument is our pid (other test files run their own).
    const ours = async () => {
      const found: number[] = [];
      for (const pid of await processesMentioning("msbv-attach")) {
        const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean);
        if (argv.at(-1) === String(process.pid)) found.push(pid);
      }
      return found;
    };
    expect(await ours()).toEqual([]);
    await fixture.runtime.start(fixture.spec("first"));
    await fixture.runtime.pool?.filled();
    // Started by the pool as it filled, before any claim: the first claim does not wait for it.
    expect(await ours()).toHaveLength(1);
  });

  it("refuses a symlink at a nested mount point like a cold start", async () => {
    await fixture.runtime.start(fixture.spec("first"));
    const ws = await fixture.newDir("ws");
    const secret = await fixture.newDir("secret");
    await writeFile(path.join(secret, "key"), "host secret");
    await symlink(secret, path.join(ws, "link"));
    const other = await fixture.newDir("other");
    await fixture.runtime.pool?.filled();
    const before = fixture.runtime.pool?.ready;
    expect(before).toBe(2);
    await expect(
      fixture.runtime.start(
        fixture.spec("tricked", {
          volumes: [
            { host: ws, guest: "/workspace" },
            { host: other, guest: "/workspace/link" },
          ],
        }),
      ),
    ).rejects.toThrow(/symlink/);
    expect(fixture.runtime.isRunning("tricked")).toBe(false);
    expect(await readdir(secret)).toEqual(["key"]);
  });
});

/**
 * The state a racing sandbox leaves: the nested mount point in the parent volume is a symlink to a
 * host folder (absolute paths resolve inside the sandbox's root, so it points at its /etc). The
 * helper itself must refuse it.
 */
async function expectNestedSymlinkRefused(pooled: PooledForTest): Promise<void> {
  const ws = await pooled.newDir("ws");
  const other = await pooled.newDir("other");
  await symlink("/etc", path.join(ws, "nested"));
  await expect(
    pooled.attach([
      { host: ws, guest: "/w" },
      { host: other, guest: "/w/nested" },
    ]),
  ).rejects.toThrow(/msbv-attach: mount point \/w\/nested/);
}

describe.runIf(isRoot)("the attach helper on its own", () => {
  it("refuses a symlink swapped in at a mount point after the checks (no path is followed)", async () => {
    await using pooled = await launchPooledForTest();
    const outside = await pooled.newDir("outside");
    await expectNestedSymlinkRefused(pooled);
    expect(await readdir(outside)).toEqual([]);
    // Nothing was mounted over the sandbox's /etc.
    expect(await pooled.mountPoints()).not.toContain("/etc");
  });
});

/** Where a process is: its mount and UTS namespaces, root, fsuid/fsgid, and open descriptors. */
async function whereIs(pid: number | "self"): Promise<{ mnt: string; uts: string; root: string; fsids: string[] }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => (new RegExp(`^${name}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "").split(/\s+/)[3] ?? "";
  return {
    mnt: await readlink(`/proc/${pid}/ns/mnt`),
    uts: await readlink(`/proc/${pid}/ns/uts`),
    root: await readlink(`/proc/${pid}/root`),
    fsids: [field("Uid"), field("Gid")],
  };
}

describe.runIf(isRoot)("the Python REPL a pooled sandbox starts while it waits", () => {
  let fixture: RuntimeFixture;
  // Cold sandboxes to compare with come from a runtime without a pool (this one's refill could
  // otherwise serve them).
  let coldFixture: RuntimeFixture;
  beforeEach(async () => {
    fixture = await createRuntimeFixture({ poolSize: 1 });
    coldFixture = await createRuntimeFixture({ poolSize: 0 });
    // The first start of an image is cold and makes the pool fill.
    await fixture.runtime.start(fixture.spec("first"));
  });
  afterEach(async () => {
    await fixture.dispose();
    await coldFixture.dispose();
  });
  /** What `code` prints, run in `name`'s Python REPL. */
  const pythonOut = async (f: RuntimeFixture, name: string, code: string) => stdout(await f.runtime.runRepl(name, "python", code));
  const startEnvOf = (f: RuntimeFixture, name: string) =>
    pythonOut(f, name, "print(sorted(k.split('=')[0] for k in open('/proc/self/environ').read().split('\\0') if k))");
  type Overrides = Parameters<RuntimeFixture["spec"]>[1];
  async function cold(name: string, envs: string[], overrides: Overrides = {}): Promise<Probe> {
    await coldFixture.runtime.start(coldFixture.spec(name, { envs, workdir: "/home/python-user/elsewhere", ...overrides }));
    return probe(coldFixture, name);
  }

  async function claim(name: string, envs: string[], overrides: Overrides = {}): Promise<Probe> {
    await fixture.runtime.pool?.filled();
    expect(fixture.runtime.pool?.ready).toBe(1);
    await fixture.runtime.start(fixture.spec(name, { envs, workdir: "/home/python-user/elsewhere", ...overrides }));
    return probe(fixture, name);
  }
  const pythonVersion = async () => stdout(await fixture.runtime.runRepl("first", "python", "import sys; print('%d.%d' % sys.version_info[:2])"));
  /** The environment in order, as the REPL and a child process (`env -0`) see it. */
  const orderedEnv = (f: RuntimeFixture, name: string) =>
    pythonOut(
      f,
      name,
      "import os, json, subprocess\nprint(json.dumps([list(os.environ.items()), subprocess.run(['env', '-0'], capture_output=True).stdout.decode()]))",
    );

  it("hands over hostile and odd values, PWD and OLDPWD exactly as a cold start has them, in the same order", async () => {
    const envs = [
      "FOO=bar",
      "NL=a\nb=c\n",
      "EQ==x=y",
      "EMPTY=",
      "UNI=é€😀\u2028",
      // A value that looks like a request line to the driver, should it ever be split on newlines.
      `INJ=\n${JSON.stringify({ adopt: { env: { X: "1" }, cwd: "/" } })}\n${JSON.stringify({ code: "import os; os._exit(3)", marker: "m" })}\n`,
      "OLDPWD=/old",
      // bubblewrap sets PWD for the sandbox's first process after the sandbox's variables: a cold
      // sandbox never shows the user's, whatever the pool does.
      "PWD=/custom-pwd",
      "ZZZ=last",
    ];
    const pooled = await claim("kept", envs);
    const coldOne = await cold("cold", envs);
    expect(await startEnvOf(fixture, "kept")).not.toContain("FOO");
    expect(pooled.env["PWD"]).toBe("/");
    expect(coldOne.env["PWD"]).toBe("/");
    expect(pooled.env["OLDPWD"]).toBe("/old");
    expect(pooled.env["INJ"]).toBe(envs[5]!.slice("INJ=".length));
    expect({ ...pooled, label: "", host: "", mounts: [] }).toEqual({ ...coldOne, label: "", host: "", mounts: [] });
    expect(await orderedEnv(fixture, "kept")).toBe(await orderedEnv(coldFixture, "cold"));
  });

  it("is not kept when a volume reaches $HOME/.local, which `site` reads at start-up: the user site, its .pth files, are a cold start's", async () => {
    const local = await fixture.newDir("local");
    const site = path.join(local, "lib", `python${await pythonVersion()}`, "site-packages");
    await mkdir(site, { recursive: true });
    await mkdir(path.join(local, "from-pth"));
    await writeFile(path.join(site, "usermod.py"), "WHERE = 'user site'\n");
    await writeFile(path.join(site, "extra.pth"), "/home/python-user/.local/from-pth\n");
    const volumes = [{ host: local, guest: "/home/python-user/.local" }];
    const importIt = "import usermod, sys\nprint(usermod.WHERE, '/home/python-user/.local/from-pth' in sys.path)";
    const pooled = await claim("user-site", ["FOO=bar"], { volumes });
    const coldOne = await cold("cold", ["FOO=bar"], { volumes });
    expect(pooled.label).toMatch(/^msbv-sandbox:\.pool-/);
    expect(pooled.sysPath).toEqual(coldOne.sysPath);
    expect(pooled.sysPath).toContain(site.replace(local, "/home/python-user/.local"));
    expect(stdout(await fixture.runtime.runRepl("user-site", "python", importIt))).toBe("user site True");
    expect(stdout(await coldFixture.runtime.runRepl("cold", "python", importIt))).toBe("user site True");
    // A fresh REPL, started after the volume was mounted (its start-up environment has FOO).
    expect(await startEnvOf(fixture, "user-site")).toContain("FOO");
    // Control: the same volume beside $HOME/.local keeps the parked REPL (started before the mount),
    // which would not have seen a user site there.
    await claim("beside", ["FOO=bar"], { volumes: [{ host: local, guest: "/home/python-user/data" }] });
    expect(await startEnvOf(fixture, "beside")).not.toContain("FOO");
  });

  it("refuses an env value or a workdir that is not text (a lone surrogate) with the same typed error, pooled or cold", async () => {
    for (const overrides of [{ envs: ["BAD=a\ud800b"] }, { workdir: "/home/python-user/\udc80" }]) {
      await fixture.runtime.pool?.filled();
      await expect(fixture.runtime.start(fixture.spec("pooled", overrides))).rejects.toMatchObject({ code: ErrorCodes.INVALID_OPTION });
      await expect(coldFixture.runtime.start(coldFixture.spec("cold", overrides))).rejects.toMatchObject({ code: ErrorCodes.INVALID_OPTION });
    }
    // Control: the same start with text starts either way.
    await claim("pooled", ["GOOD=a\ufffdb"]);
    await cold("cold", ["GOOD=a\ufffdb"]);
  });

  it("is interrupted by a timeout right after the claim and keeps its state, as a cold REPL", async () => {
    const steps = async (f: RuntimeFixture, name: string) => [
      stdout(await f.runtime.runRepl(name, "python", "x = 41")),
      (await f.runtime.runRepl(name, "python", "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", 1)).map((l) => l.text),
      stdout(await f.runtime.runRepl(name, "python", "print(x + 1)")),
    ];
    await claim("kept", ["FOO=bar"]);
    await cold("cold", ["FOO=bar"]);
    const pooled = await steps(fixture, "kept");
    expect(pooled).toEqual(await steps(coldFixture, "cold"));
    expect(pooled[2]).toBe("42");
    expect(await startEnvOf(fixture, "kept")).not.toContain("FOO");
  });

  it("is kept for an ordinary environment: the run sees the sandbox's environment and workdir, as a fresh REPL does", async () => {
    const envs = ["FOO=bar", "PATH=/custom/bin:/usr/bin:/bin"];
    const pooled = await claim("kept", envs);
    const coldOne = await cold("cold", envs);
    expect(pooled.label).toMatch(/^msbv-sandbox:\.pool-/);
    expect(pooled.env["FOO"]).toBe("bar");
    expect(pooled.cwd).toBe("/home/python-user/elsewhere");
    // What a program sees, and what its child processes inherit, is the cold sandbox's.
    expect({ ...pooled, label: "", host: "", mounts: [] }).toEqual({ ...coldOne, label: "", host: "", mounts: [] });
    // It really is the REPL started before the claim: its start-up environment has no FOO (the one
    // documented difference, docs/dev-server.md#pool); a cold sandbox's REPL has it.
    expect(await startEnvOf(fixture, "kept")).not.toContain("FOO");
    expect(await startEnvOf(coldFixture, "cold")).toContain("FOO");
  });

  it("with the image's default workdir gets the attach with its first run, which then sees a cold start's environment, workdir and order", async () => {
    // The claim does not wait for the supervisor here (pool/deferred-attach.ts): the attach goes out
    // with the first request, kept REPL or fresh one.
    const defaultWorkdir = { workdir: undefined };
    for (const [name, envs] of [
      ["kept", ["FOO=bar", "EMPTY=", "NL=a\nb=c\n", "OLDPWD=/old", "PWD=/custom-pwd", "ZZZ=last"]],
      ["fresh", ["FOO=bar", "PYTHONPATH=/opt/extra", "PWD=/custom-pwd"]],
    ] as const) {
      const pooled = await claim(name, [...envs], defaultWorkdir);
      const coldOne = await cold(`cold-${name}`, [...envs], defaultWorkdir);
      expect(pooled.label).toMatch(/^msbv-sandbox:\.pool-/);
      expect(pooled.cwd).toBe("/home/python-user/work");
      expect({ ...pooled, label: "", host: "", mounts: [] }).toEqual({ ...coldOne, label: "", host: "", mounts: [] });
      expect(await orderedEnv(fixture, name)).toBe(await orderedEnv(coldFixture, `cold-${name}`));
      if (name === "kept") expect(await startEnvOf(fixture, name)).not.toContain("FOO");
      else expect(await startEnvOf(fixture, name)).toContain("FOO");
    }
  });

  it("makes the folders above a volume inside the default workdir with a cold start's modes", async () => {
    const ro = await fixture.newDir("ro-inner");
    // (helper-22 found 755 pooled against bubblewrap's 700.)
    const overrides = { workdir: undefined, volumes: [{ host: ro, guest: "/home/python-user/work/ro", readonly: true }] };
    const modes = (f: RuntimeFixture, name: string) =>
      pythonOut(
        f,
        name,
        "import os\nprint([oct(os.stat(p).st_mode & 0o7777) for p in ('/home/python-user', '/home/python-user/work', '/home/python-user/work/ro')])",
      );
    await claim("pooled", ["FOO=bar"], overrides);
    await cold("cold", ["FOO=bar"], overrides);
    expect(await modes(fixture, "pooled")).toBe(await modes(coldFixture, "cold"));
    // And inside a volume: the folders made on the host for a nested mount point.
    const hostModes: string[][] = [];
    for (const [f, name] of [
      [fixture, "pooled-nested"],
      [coldFixture, "cold-nested"],
    ] as const) {
      const outer = await f.newDir(`${name}-outer`);
      const inner = await f.newDir(`${name}-inner`);
      const volumes = [
        { host: outer, guest: "/workspace" },
        { host: inner, guest: "/workspace/sub/inner", readonly: true },
      ];
      if (f === fixture) await claim(name, ["FOO=bar"], { workdir: undefined, volumes });
      else await cold(name, ["FOO=bar"], { workdir: undefined, volumes });
      hostModes.push(await Promise.all(["sub", "sub/inner"].map(async (p) => ((await stat(path.join(outer, p))).mode & 0o7777).toString(8))));
    }
    expect(hostModes[0]).toEqual(hostModes[1]);
  });

  it("with a read-only volume over the default workdir ends as a cold start does (that attach is waited for)", async () => {
    const ro = await fixture.newDir("ro-home");
    const overrides = { workdir: undefined, volumes: [{ host: ro, guest: "/home/python-user", readonly: true }] };
    const outcome = (f: RuntimeFixture, name: string) =>
      f.runtime.start(f.spec(name, { envs: ["FOO=bar"], ...overrides })).then(
        async () => ({ started: true, cwd: (await probe(f, name)).cwd }),
        (error: unknown) => ({ started: false, cwd: String((error as Error).message).includes("work") ? "names the workdir" : String(error) }),
      );
    const coldOne = await outcome(coldFixture, "cold");
    await fixture.runtime.pool?.filled();
    expect(await outcome(fixture, "pooled")).toEqual(coldOne);
  });

  it("is replaced by a fresh one when a variable read at start-up differs, so flags, locale and paths are a cold start's", async () => {
    const envs = ["PYTHONDONTWRITEBYTECODE=1", "LANG=C", "PYTHONPATH=/opt/extra"];
    // With a volume: the claim checks the mount table of every process in the sandbox, which the
    // parked REPL must have left by then (it once vanished under that check and the claim went cold).
    const volumes = [{ host: await fixture.newDir("ws"), guest: "/workspace" }];
    const pooled = await claim("fresh", envs, { volumes });
    const coldOne = await cold("cold", envs, { volumes });
    expect(pooled.label).toMatch(/^msbv-sandbox:\.pool-/);
    expect(pooled.flags).toContain("dont_write_bytecode=1");
    expect(pooled.sysPath).toContain("/opt/extra");
    expect({ ...pooled, label: "", host: "", mounts: [] }).toEqual({ ...coldOne, label: "", host: "", mounts: [] });
    expect(await startEnvOf(fixture, "fresh")).toContain("PYTHONDONTWRITEBYTECODE");
  });
});

describe.runIf(isRoot)("the attach helper serves every request from the host", () => {
  it("is back in the host's namespaces, root and ids after each request, refused or not, and keeps nothing open", async () => {
    await using pooled = await launchPooledForTest();
    await expectNestedSymlinkRefused(pooled);
    const helper = pooled.helperPid();
    expect(helper).toBeGreaterThan(0);
    const host = await whereIs("self");
    expect(await whereIs(helper!)).toEqual({ ...host, fsids: ["0", "0"] });
    const fdsAfterRefusal = (await readdir(`/proc/${helper}/fd`)).sort();

    // Then a good request: a root-owned folder (mapped through the sandbox's own user namespace)
    // and one owned by another uid (a namespace of its own): both show as the sandbox's uid, and a
    // file of a third owner as nobody, exactly as a cold start's launcher maps them.
    const rootOwned = await pooled.newDir("root-owned");
    const userOwned = await pooled.newDir("user-owned");
    await chown(userOwned, 4321, 4322);
    await writeFile(path.join(rootOwned, "stranger"), "x");
    await chown(path.join(rootOwned, "stranger"), 777, 777);
    await pooled.attach([
      { host: rootOwned, guest: "/r" },
      { host: userOwned, guest: "/u" },
    ]);
    expect(await whereIs(helper!)).toEqual({ ...host, fsids: ["0", "0"] });
    expect((await readdir(`/proc/${helper}/fd`)).sort()).toEqual(fdsAfterRefusal);
    const owner = async (guest: string) => {
      const info = await stat(await pooled.inside(guest));
      return [info.uid, info.gid];
    };
    expect(await owner("/r")).toEqual([pooled.uid, pooled.uid]);
    expect(await owner("/u")).toEqual([pooled.uid, pooled.uid]);
    expect(await owner("/r/stranger")).toEqual([65534, 65534]);
    // Control: outside the mounts, the same host files keep their owners.
    expect((await stat(path.join(userOwned))).uid).toBe(4321);
  });
});

/** The helper's open descriptors, by number. */
async function fdsOf(pid: number): Promise<string[]> {
  return (await readdir(`/proc/${pid}/fd`)).sort();
}

describe.runIf(isRoot)("the attach helper under hostile requests", () => {
  it("refuses a request failing at any step, before or after entering the sandbox, and is back home with nothing open each time", async () => {
    await using pooled = await launchPooledForTest();
    await pooled.attach([{ host: await pooled.newDir("first"), guest: "/first" }]);
    const helper = pooled.helperPid()!;
    const home = { ...(await whereIs("self")), fsids: ["0", "0"] };
    const fds = await fdsOf(helper);
    // Control: the sandbox's init is somewhere else, so being left inside would show.
    const init = await readlink(path.join(await pooled.inside("/"), "..", "ns", "mnt")).catch(() => "");
    expect(init).not.toBe("");
    expect(init).not.toBe(home.mnt);

    const { spec, done } = await pooled.rawRequest([{ host: await pooled.newDir("vol"), guest: "/v" }]);
    const mount = spec.mounts[0]!;
    const dead = spawn("/bin/true");
    await once(dead, "exit");
    const cases: Array<[string, Partial<typeof spec>, RegExp]> = [
      // Before entering: who the sandbox is, which folder.
      ["a pid that is gone", { pid: dead.pid! }, /find the sandbox/],
      ["a pid that is not the sandbox's init (the server itself)", { pid: process.pid }, /is not the sandbox's init/],
      ["bubblewrap's pid instead of its child's", { pid: spec.bwrapPid }, /is not the sandbox's init/],
      ["a folder that is not the one the server opened", { mounts: [{ ...mount, ino: mount.ino + 1 }] }, /is not the one the server opened/],
      // After entering (setns + chroot + fsuid): the walk and the hostname.
      ["'..' in the guest path", { mounts: [{ ...mount, guest: "/a/../etc" }] }, /mount point \/a\/\.\.\/etc: not a normalised path/],
      [
        "a mount point under the read-only /usr",
        { mounts: [{ ...mount, guest: "/usr/msbv-new" }] },
        /mount point \/usr\/msbv-new.*Read-only file system/,
      ],
      ["a file on the way", { mounts: [{ ...mount, guest: "/proc/version/x" }] }, /mount point \/proc\/version\/x.*Not a directory/],
      ["a name longer than the kernel allows", { mounts: [{ ...mount, guest: `/${"n".repeat(300)}` }] }, /File name too long/],
      ["a guest path that is not valid text (lone surrogate)", { mounts: [{ ...mount, guest: "/\ud800" }] }, /mount point .*surrogate/],
      ["a hostname that is not valid text", { mounts: [], hostname: "\ud800" }, /hostname: .*surrogate/],
      ["a hostname longer than the kernel allows", { mounts: [], hostname: "h".repeat(65) }, /hostname: Invalid argument/],
    ];
    for (const [what, patch, error] of cases) {
      const outcome = await pooled.send({ ...spec, ...patch }).then(
        () => "served",
        (e: Error) => e.message,
      );
      expect(outcome, what).toMatch(error);
      expect(pooled.helperPid(), what).toBe(helper);
      expect(await whereIs(helper), what).toEqual(home);
      expect(await fdsOf(helper), what).toEqual(fds);
    }
    // And it still serves: the same request, untampered, mounts the folder.
    await pooled.send(spec);
    await done();
    expect(await pooled.mountPoints()).toContain("/v");
    expect(pooled.helperPid()).toBe(helper);
    expect(await whereIs(helper)).toEqual(home);
    expect(await fdsOf(helper)).toEqual(fds);
  });

  it("is not stalled by a FIFO or a deep tree a sandbox sharing the parent volume planted at a mount point", async () => {
    await using pooled = await launchPooledForTest();
    const ws = await pooled.newDir("ws");
    const other = await pooled.newDir("other");
    // What another sandbox with the same parent volume can leave there: a FIFO (opening it for
    // reading would wait for a writer forever) and a deep tree of folders.
    await promisify(execFile)("mkfifo", [path.join(ws, "fifo")]);
    await mkdir(path.join(ws, "deep", ...Array.from({ length: 200 }, () => "d")), { recursive: true });
    await expect(
      pooled.attach([
        { host: ws, guest: "/w" },
        { host: other, guest: "/w/fifo" },
      ]),
    ).rejects.toThrow(/msbv-attach: mount point \/w\/fifo: .*Not a directory/);
    // The same helper serves the next claims: under the deep tree, and at a non-ASCII guest path.
    const helper = pooled.helperPid();
    await pooled.attach([
      { host: ws, guest: "/w2" },
      { host: other, guest: "/w2/deep" },
      { host: await pooled.newDir("unicode"), guest: "/données/日本" },
    ]);
    expect(pooled.helperPid()).toBe(helper);
    expect(await pooled.mountPoints()).toEqual(expect.arrayContaining(["/w2", "/w2/deep", "/données/日本"]));
  });

  it("answers a request it cannot read as an error and ends on a line that is not a request, never waiting on it", async () => {
    // The helper as the server starts it (pool/attach-server.ts), driven by hand to send what the server never would.
    const helper = spawn("/usr/bin/python3", ["-I", "-S", "-c", ATTACH_SERVER_SCRIPT, "{}", String(process.pid)], { env: {} });
    const lines = createInterface({ input: helper.stdout })[Symbol.asyncIterator]();
    let stderr = "";
    helper.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(helper, "exit");
    helper.stdin.write(`${JSON.stringify({ id: 1, spec: {} })}\n`);
    expect(JSON.parse((await lines.next()).value as string)).toEqual({ id: 1, error: "msbv-attach: open the volumes: KeyError('mounts')" });
    helper.stdin.write(`${JSON.stringify({ id: 2, spec: { mounts: [42] } })}\n`);
    expect(JSON.parse((await lines.next()).value as string)).toMatchObject({
      id: 2,
      error: expect.stringMatching(/^msbv-attach: open the volumes: TypeError/),
    });
    // Still there after both; then a line that is not JSON ends it, without an answer.
    expect(helper.exitCode).toBeNull();
    helper.stdin.write("not a request\n");
    const [code] = await exited;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/JSONDecodeError/);
    expect((await lines.next()).done).toBe(true);
  });

  it("drops the supplementary groups it was started with (they would count while it acts as the sandbox's uid)", async () => {
    // As the server starts it, but with a group of the server's user (setpriv execs, so its parent stays ours).
    const start = (script: string) =>
      spawn("/usr/bin/setpriv", ["--groups", "4242", "--", "/usr/bin/python3", "-I", "-S", "-c", script, "{}", String(process.pid)], { env: {} });
    const groupsOf = async (pid: number) => /^Groups:[ \t]*(.*)$/m.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]?.trim();
    const serving = async (script: string) => {
      const helper = start(script);
      const lines = createInterface({ input: helper.stdout })[Symbol.asyncIterator]();
      // One answered request: the helper is past its start-up.
      helper.stdin.write(`${JSON.stringify({ id: 1, spec: {} })}\n`);
      await lines.next();
      const groups = await groupsOf(helper.pid!);
      helper.kill("SIGKILL");
      return groups;
    };
    expect(await serving(ATTACH_SERVER_SCRIPT)).toBe("");
    // Control: without the drop, the helper keeps the group.
    const keeping = ATTACH_SERVER_SCRIPT.replace("os.setgroups([])", "pass");
    expect(keeping).not.toBe(ATTACH_SERVER_SCRIPT);
    expect(await serving(keeping)).toBe("4242");
  });

  it("a killed helper fails the claims in flight, and the next claim starts a new one", async () => {
    await using pooled = await launchPooledForTest();
    await pooled.attach([{ host: await pooled.newDir("first"), guest: "/first" }]);
    const helper = pooled.helperPid()!;
    process.kill(helper, "SIGSTOP");
    const owned = await pooled.newDir("owned");
    await chown(owned, 4321, 4321);
    const { spec, done } = await pooled.rawRequest([{ host: owned, guest: "/owned" }]);
    // Written to the stopped helper at once; the kill comes before it can read it.
    const inFlight = pooled.send(spec);
    process.kill(helper, "SIGKILL");
    await expect(inFlight).rejects.toThrow(/the attach helper ended \(SIGKILL\)/);
    expect(await pooled.mountPoints()).not.toContain("/owned");
    await done();
    // The next claim starts a new helper, which serves it.
    await pooled.attach([{ host: owned, guest: "/owned" }]);
    expect(await pooled.mountPoints()).toContain("/owned");
    expect(pooled.helperPid()).not.toBe(helper);
  });

  it("the holder of a throw-away user namespace ends by itself when the helper is killed while it waits", async () => {
    await using pooled = await launchPooledForTest();
    await pooled.attach([{ host: await pooled.newDir("first"), guest: "/first" }]);
    // A folder of another owner makes the helper spawn a holder; kill the helper the moment one shows.
    let holder: number | undefined;
    for (let attempt = 0; attempt < 30 && holder === undefined; attempt++) {
      const helper = pooled.helperPid() ?? 0;
      const owned = await pooled.newDir("owned");
      await chown(owned, 5000 + attempt, 5000 + attempt);
      const { spec, done } = await pooled.rawRequest([{ host: owned, guest: `/owned${attempt}` }]);
      let settled = false;
      const answered = pooled.send(spec).then(
        () => (settled = true),
        () => (settled = true),
      );
      while (!settled && helper) {
        const children = (await readFile(`/proc/${helper}/task/${helper}/children`, "utf8").catch(() => "")).trim();
        if (children) {
          process.kill(helper, "SIGKILL");
          const child = Number(children.split(" ")[0]);
          // Counts only if caught alive: the holder itself (unshare, then sh after its exec).
          const argv = await readFile(`/proc/${child}/cmdline`, "utf8").catch(() => "");
          if (/^(\/usr\/bin\/unshare|\/bin\/sh)\0/.test(argv)) holder = child;
          break;
        }
      }
      await answered;
      await done();
    }
    expect(holder).toBeGreaterThan(0);
    // Its stdin is a pipe only the helper held: it reads end of file and exits (or is a zombie of its new parent).
    for (;;) {
      const state = await readFile(`/proc/${holder}/stat`, "utf8").then(
        (text) => text.slice(text.lastIndexOf(")") + 2).split(" ")[0],
        () => "gone",
      );
      if (state === "gone" || state === "Z") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});

describe.runIf(isRoot)("pool and a server not at priority 0", () => {
  it("gives a claimed sandbox the priority a cold one inherits from the server", async () => {
    await using scratch = await tempDir("msbv-pool-nice-");
    const spec = (name: string) => ({ name, image: "microsandbox/python", volumes: [], envs: [] });
    const nices =
      "import os, json\nprint(json.dumps([sorted({os.getpriority(os.PRIO_PROCESS, int(t)) for p in os.listdir('/proc') if p.isdigit() for t in os.listdir('/proc/%s/task' % p)}), '.pool-' in open('/proc/1/cmdline').read()]))";
    const { child, output } = await startRuntimeChild(
      scratch.path,
      `(await import("node:os")).setPriority(5);
const runtime = createBwrapRuntime({ stateDir: ${JSON.stringify(path.join(scratch.path, "state"))}, poolSize: 1 });
const text = async (name) => (await runtime.runRepl(name, "python", ${JSON.stringify(nices)})).map((line) => line.text).join("");
await runtime.start(${JSON.stringify(spec("cold"))});
await runtime.pool.filled();
await runtime.start(${JSON.stringify(spec("pooled"))});
console.log("nices " + JSON.stringify({ cold: await text("cold"), pooled: await text("pooled"), ready: runtime.pool.ready }));
await runtime.shutdown();
console.log("ready");`,
    );
    child.kill("SIGKILL");
    const line =
      output()
        .split("\n")
        .find((l) => l.startsWith("nices ")) ?? "";
    const seen = JSON.parse(line.slice("nices ".length)) as { cold: string; pooled: string };
    // Every thread of every process each sandbox can see (its own PID namespace; setpriority names one
    // thread, and the supervisor's V8 threads were started at 19 too): all at the server's 5, none at 19;
    // the second one was a waiting sandbox (its init's argv still names its slot).
    expect(JSON.parse(seen.cold)).toEqual([[5], false]);
    expect(JSON.parse(seen.pooled)).toEqual([[5], true]);
  });
});

describe.runIf(isRoot)("pool slots left by a killed server", () => {
  const slots = async (state: string) => (await readdir(state)).filter((entry) => entry.startsWith(".pool-")).sort();

  it("are removed by the next server on the same state folder, and nothing else is", async () => {
    await using scratch = await tempDir("msbv-pool-kill-");
    const state = path.join(scratch.path, "state");
    const spec = (name: string) => ({ name, image: "microsandbox/python", volumes: [], envs: [] });
    const { child } = await startRuntimeChild(
      scratch.path,
      `const runtime = createBwrapRuntime({ stateDir: ${JSON.stringify(state)}, poolSize: 2 });
await runtime.start(${JSON.stringify(spec("first"))});
await runtime.pool.filled();
console.log("ready");`,
    );
    const left = await slots(state);
    // Two slot folders, each with its owner file.
    expect(left.filter((entry) => entry.endsWith(".owner")).map((entry) => entry.slice(0, -".owner".length))).toEqual(
      left.filter((entry) => !entry.endsWith(".owner")),
    );
    expect(left).toHaveLength(4);
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(await slots(state)).toEqual(left);

    const runtime = createBwrapRuntime({ stateDir: state, poolSize: 2 });
    try {
      await runtime.start(spec("second"));
      await runtime.pool?.filled();
      const now = await slots(state);
      expect(now.filter((entry) => left.includes(entry))).toEqual([]);
      expect(now).toHaveLength(4);
      // A name's state is never a slot, whoever made it.
      expect((await readdir(state)).filter((entry) => entry === "first" || entry === "second").sort()).toEqual(["first", "second"]);
    } finally {
      await runtime.shutdown();
    }
    expect(await slots(state)).toEqual([]);
  });
});

// A claim with the image's default workdir does not wait for the supervisor's attach: it goes out in
// the same write as the sandbox's first request (pool/deferred-attach.ts). Whatever that request is,
// it must see what a cold start gives; a sandbox that cannot be attached must not pass for a running
// one, and the caller's first request must say why it ended.
describe.runIf(isRoot)("a claim whose attach goes with the first request", () => {
  let scratch: Awaited<ReturnType<typeof tempDir>>;
  let runtime: ReturnType<typeof createBwrapRuntime>;
  let coldRuntime: ReturnType<typeof createBwrapRuntime>;
  let stateDir: string;
  const logs: string[] = [];
  const spec = (name: string, overrides: { image?: string; envs?: string[]; workdir?: string } = {}) => ({
    name,
    image: "microsandbox/python",
    volumes: [],
    envs: [],
    ...overrides,
  });
  beforeEach(async () => {
    scratch = await tempDir("msbv-pool-deferred-");
    stateDir = path.join(scratch.path, "state");
    logs.length = 0;
    runtime = createBwrapRuntime({ stateDir, poolSize: 1, log: (line) => logs.push(line) });
    coldRuntime = createBwrapRuntime({ stateDir: path.join(scratch.path, "cold-state"), poolSize: 0 });
    // The first start of an image is cold and makes the pool fill.
    await runtime.start(spec("first"));
  });
  afterEach(async () => {
    await runtime.shutdown();
    await coldRuntime.shutdown();
    await scratch.remove();
  });

  /** Makes sure the next start of `image` is a claim, and returns the waiting sandbox's slot folder. */
  async function waitingSlot(): Promise<string> {
    await runtime.pool?.filled();
    expect(runtime.pool?.ready).toBe(1);
    const slots = (await readdir(stateDir)).filter((entry) => entry.startsWith(".pool-") && !entry.endsWith(".owner"));
    expect(slots).toHaveLength(1);
    return path.join(stateDir, slots[0]!);
  }
  const command = async (r: typeof runtime, name: string, script: string) => {
    const result = await r.runCommand(name, "sh", ["-c", script]);
    return { exitCode: result.exitCode, lines: result.output.map((line) => `${line.stream}: ${line.text}`) };
  };
  const label = async (r: typeof runtime, name: string) => (await command(r, name, "tr '\\0' ' ' < /proc/1/cmdline")).lines.join("");
  // Where the sandbox is, what its processes inherit, in order, and whether $HOME was made.
  const SHOW = 'pwd; echo "home:$(test -d "$HOME" && echo yes)"; env';
  const envs = ["FOO=bar", "EMPTY=", "EQ==x=y", "OLDPWD=/old", "PWD=/custom-pwd", "ZZZ=last"];

  it("gives a command run first, a Node sandbox, and a file written first through the raw channel what a cold start gives", async () => {
    await waitingSlot();
    await runtime.start(spec("cmd-first", { envs }));
    await coldRuntime.start(spec("cold", { envs }));
    expect(await label(runtime, "cmd-first")).toMatch(/msbv-sandbox:\.pool-/);
    const pooled = await command(runtime, "cmd-first", SHOW);
    expect(pooled.lines[0]).toBe("stdout: /home/python-user/work");
    expect(pooled).toEqual(await command(coldRuntime, "cold", SHOW));

    // The sync file channel's writer first: a relative path lands in the workdir, as it would cold.
    await waitingSlot();
    await runtime.start(spec("raw-first", { envs }));
    const exit = await new Promise<unknown>((resolve) => {
      void runtime
        .spawnRaw?.(
          "raw-first",
          ["true"],
          {
            onData: () => undefined,
            onExit: (code, signal) => resolve({ code, signal }),
            onSpawnError: (code, message) => resolve({ code, message }),
          },
          { writeFile: { path: "rel.txt", part: ".rel.txt.part", size: 2 } },
        )
        .then((child) => {
          child.writeRaw([Buffer.from("hi")]);
          child.endInput();
        });
    });
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await readFile(path.join(stateDir, "raw-first", "rw", "home", "python-user", "work", "rel.txt"), "utf8")).toBe("hi");
    // Node: no parked REPL; its first start is cold and makes the pool fill for it.
    await runtime.start(spec("node-first", { image: "microsandbox/node" }));
    await runtime.pool?.filled();
    expect(runtime.pool?.ready).toBe(2);
    await runtime.start(spec("node-cmd", { image: "microsandbox/node", envs }));
    await coldRuntime.start(spec("node-cold", { image: "microsandbox/node", envs }));
    expect(await label(runtime, "node-cmd")).toMatch(/msbv-sandbox:\.pool-/);
    const node = await command(runtime, "node-cmd", SHOW);
    expect(node.lines[0]).toBe("stdout: /home/node/work");
    expect(node).toEqual(await command(coldRuntime, "node-cold", SHOW));
    // And a Node REPL run first: its driver is started with the first request, after the attach.
    await runtime.pool?.filled();
    await runtime.start(spec("node-repl", { image: "microsandbox/node", envs }));
    const nodeProbe = "console.log(JSON.stringify([process.cwd(), Object.entries(process.env)]))";
    const pooledNode = stdout(await runtime.runRepl("node-repl", "node", nodeProbe));
    expect(JSON.parse(pooledNode)[0]).toBe("/home/node/work");
    expect(pooledNode).toBe(stdout(await coldRuntime.runRepl("node-cold", "node", nodeProbe)));
    expect(await label(runtime, "node-repl")).toMatch(/msbv-sandbox:\.pool-/);
  });

  it("gives a REPL run and a command sent at once, in either order, the sandbox's environment and workdir", async () => {
    const repl =
      "import os, subprocess\nprint(os.getcwd(), os.environ['FOO'], subprocess.run(['sh', '-c', 'echo $FOO'], capture_output=True, text=True).stdout.strip())";
    for (const replFirst of [true, false]) {
      await waitingSlot();
      const name = replFirst ? "repl-first" : "command-first";
      await runtime.start(spec(name, { envs: ["FOO=bar"] }));
      const runRepl = () => runtime.runRepl(name, "python", repl).then(stdout);
      const runCommand = () => command(runtime, name, 'echo "$(pwd) $FOO"');
      const [a, b] = replFirst ? await Promise.all([runRepl(), runCommand()]) : (await Promise.all([runCommand(), runRepl()])).reverse();
      expect(a).toBe("/home/python-user/work bar bar");
      expect(b).toEqual({ exitCode: 0, lines: ["stdout: /home/python-user/work bar"] });
      expect(await label(runtime, name)).toMatch(/msbv-sandbox:\.pool-/);
    }
  });

  it("stopped before any request (the attach never sent) leaves nothing running, and the name starts again in its workdir", async () => {
    await waitingSlot();
    await runtime.start(spec("quick", { envs: ["FOO=bar"] }));
    await runtime.stop("quick");
    expect(await sandboxProcessesMentioning(path.join(stateDir, "quick"))).toEqual([]);
    // The attach never reached it: no workdir was made in the name's /home.
    await expect(stat(path.join(stateDir, "quick", "rw", "home", "python-user"))).rejects.toThrow(/ENOENT/);
    // A name with state starts cold, and makes its workdir itself.
    await runtime.start(spec("quick", { envs: ["FOO=bar"] }));
    expect(await command(runtime, "quick", 'echo "$(pwd) $FOO"')).toEqual({ exitCode: 0, lines: ["stdout: /home/python-user/work bar"] });
  });

  it("when that attach fails, the first request (a run or a command) says why the sandbox ended, nothing of it runs on, and the server goes on", async () => {
    for (const first of ["run", "command"] as const) {
      const slot = await waitingSlot();
      // A host-side fault the claim cannot see: something is in the way of the workdir.
      await mkdir(path.join(slot, "rw", "home", "python-user"), { recursive: true });
      await writeFile(path.join(slot, "rw", "home", "python-user", "work"), "");
      const name = `broken-${first}`;
      await runtime.start(spec(name, { envs: ["FOO=bar"] }));
      const outcome =
        first === "run"
          ? runtime.runRepl(name, "python", "import os\nprint(os.environ.get('FOO'))")
          : runtime.runCommand(name, "sh", ["-c", "echo ran $FOO"]);
      const error = await outcome.then(
        (result) => ({ result }),
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(error, first).toMatchObject({ code: ErrorCodes.NOT_STARTED });
      expect((error as Error).message, first).toMatch(
        new RegExp(`Sandbox "${name}" ended before its first run: cannot create or enter the workdir /home/python-user/work: EEXIST`),
      );
      expect(runtime.isRunning(name)).toBe(false);
      expect(await sandboxProcessesMentioning(path.join(stateDir, name))).toEqual([]);
    }
    // The server goes on: the pool refills and serves the next start, which runs.
    await waitingSlot();
    await runtime.start(spec("after", { envs: ["FOO=bar"] }));
    expect(await command(runtime, "after", 'echo "$(pwd) $FOO"')).toEqual({ exitCode: 0, lines: ["stdout: /home/python-user/work bar"] });
  });

  it("is not handed out dead: a waiting sandbox that ends while its claim finishes makes the start go cold", async () => {
    const supervisorOf = async (slot: string): Promise<number> => {
      for (const pid of await processesMentioning(slot)) {
        const exe = await readlink(`/proc/${pid}/exe`).catch(() => "");
        if (path.basename(exe) === "node") return pid;
      }
      throw new Error(`no supervisor for ${slot}`);
    };
    /** Bytes the host sent the supervisor that it has not read (its stdin is a socket). */
    const unread = async (pid: number): Promise<number> => {
      const { stdout: table } = await promisify(execFile)("ss", ["-xpn"]);
      const line = table.split("\n").find((l) => l.includes(`("node",pid=${pid},fd=0)`));
      return Number(line?.trim().split(/\s+/)[2] ?? 0);
    };
    // Default workdir (the attach goes with the first request), and a workdir elsewhere (the claim
    // waits for the attach) as the control.
    for (const workdir of [undefined, "/home/python-user/elsewhere"]) {
      const slot = await waitingSlot();
      const supervisor = await supervisorOf(slot);
      process.kill(supervisor, "SIGSTOP");
      const name = workdir ? "waited" : "deferred";
      logs.length = 0;
      // PYTHONPATH: the parked REPL is not kept; the claim ends it once the attach helper answered, and
      // that kill is the first message the stopped supervisor gets. The sandbox dies right then.
      const started = runtime.start(spec(name, { envs: ["PYTHONPATH=/opt/x"], ...(workdir ? { workdir } : {}) }));
      while ((await unread(supervisor)) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      process.kill(supervisor, "SIGKILL");
      await started;
      expect(runtime.isRunning(name), name).toBe(true);
      expect(logs.join("\n"), name).toMatch(new RegExp(`claiming a waiting sandbox for "${name}" failed, starting it cold`));
      expect(await label(runtime, name)).toMatch(new RegExp(`msbv-sandbox:${name}:`));
    }
  });
});
