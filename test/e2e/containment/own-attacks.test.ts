import { lstat, readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, Workspace, isMsbvError, type PythonSandbox } from "../../../src/index.js";
import { descendantsOf, hostUidsOf, MODES, py, pyJson, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// Attacks the suite did not try before issue 11, each performed from inside a real sandbox, with
// the dev server as root and as an ordinary user. Each must fail; where cheap, a control shows the
// same step works on something the sandbox is allowed to touch.

const ERR = String.raw`
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
def err(fn):
    try:
        r = fn()
        if isinstance(r, int) and r < 0: return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
        return 'done'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    except ValueError as e:  # e.g. Python's own refusal to raise a hard rlimit
        return 'ValueError'
`;

describe.each(MODES)("own attacks (server as %s)", (mode) => {
  let s: ContainmentServer;
  let a: PythonSandbox;
  let b: PythonSandbox;
  let wsA: string;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    wsA = await s.folder("ws-a");
    await s.folder("ws-b");
    [a, b] = await Promise.all([s.create("att-a", { volumes: ["./ws-a:/workspace"] }), s.create("att-b", { volumes: ["./ws-b:/workspace"] })]);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function pidsOf(sandboxMarker: string): Promise<number[]> {
    const pids: number[] = [];
    for (const pid of await descendantsOf(s.pid)) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (cmd.includes(sandboxMarker)) pids.push(pid);
    }
    return pids;
  }

  it("A1 signals: the server's and sandbox B's host pids are unreachable from A (ESRCH), and kill(-1) only hits its own sandbox", async () => {
    const bPids = await pidsOf("msbv-sandbox:att-b");
    expect(bPids.length).toBeGreaterThan(0);
    const targets = [s.pid, ...bPids];
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
import signal
res = {}
own = set(int(p) for p in os.listdir('/proc') if p.isdigit())
for pid in ${JSON.stringify(targets)}:
    res[str(pid)] = 'not-visible' if pid not in own else err(lambda: os.kill(pid, 0))
print(json.dumps(res))`,
    );
    for (const pid of targets) expect(["not-visible", "ESRCH"], String(pid)).toContain(res[String(pid)]);
    // kill(-1) from a child inside a third sandbox: everything it may signal, i.e. its own sandbox only.
    const c = await s.create("att-c");
    await c.run("import os, signal\nif os.fork() == 0:\n    os.kill(-1, signal.SIGKILL)\n    os._exit(0)").catch(() => undefined);
    expect((await py(b, "print('B alive')")).trim()).toBe("B alive");
    expect((await py(a, "print('A alive')")).trim()).toBe("A alive");
    expect(
      await fetch(`${s.url}/api/v1/health`)
        .then((r) => r.status)
        .catch(() => 0),
    ).not.toBe(0);
  });

  it("A2 ptrace: A cannot attach to B's processes nor to the server", async () => {
    const targets = [s.pid, ...(await pidsOf("msbv-sandbox:att-b"))];
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
res = {}
for pid in ${JSON.stringify(targets)}:
    res[str(pid)] = err(lambda: libc.ptrace(16, pid, None, None))  # PTRACE_ATTACH
print(json.dumps(res))`,
    );
    for (const outcome of Object.values(res)) expect(["ESRCH", "EPERM"]).toContain(outcome);
  });

  it("A3 device nodes: mknod of /dev/mem (char 1:1) or a block device in a volume fails; the host sees no device file", async () => {
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
import stat
print(json.dumps({
  'chr': err(lambda: os.mknod('/workspace/mem', stat.S_IFCHR | 0o666, os.makedev(1, 1))),
  'blk': err(lambda: os.mknod('/workspace/vda', stat.S_IFBLK | 0o666, os.makedev(254, 0))),
  'fifo-control': err(lambda: os.mkfifo('/workspace/control-fifo')),
}))`,
    );
    expect(res["chr"]).toBe("EPERM");
    expect(res["blk"]).toBe("EPERM");
    expect(res["fifo-control"]).toBe("done");
    for (const name of await readdir(wsA)) {
      const info = await lstat(path.join(wsA, name));
      expect(info.isCharacterDevice() || info.isBlockDevice(), name).toBe(false);
    }
  });

  it("A4 hard links: linking a host binary or file into a volume fails (EXDEV); linking inside the volume works", async () => {
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
open('/workspace/own.txt', 'w').write('x')
print(json.dumps({
  'python': err(lambda: os.link('/usr/bin/python3', '/workspace/py-link')),
  'passwd': err(lambda: os.link('/etc/passwd', '/workspace/passwd-link')),
  'control': err(lambda: os.link('/workspace/own.txt', '/workspace/own-link')),
}))`,
    );
    expect(res).toEqual({ python: "EXDEV", passwd: "EXDEV", control: "done" });
  });

  it("A5 FIFO trap: a FIFO planted in a volume does not block the host-side Workspace reader", async () => {
    await py(a, "import os\nos.mkfifo('/workspace/trap')\nos.symlink('/etc/shadow', '/workspace/shadow-link')");
    const ws = await Workspace.open(wsA);
    for (const rel of ["trap", "shadow-link"]) {
      const error = await ws.readText(rel).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMsbvError(error) && error.code, rel).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    }
  });

  it("A6 /proc escapes: /proc/1/root is the sandbox's own root, and no inherited descriptor points at the host", async () => {
    const res = await pyJson<{ same: boolean; shadow: string; fds: string[]; mountsOk: boolean }>(
      a,
      `${ERR}
fds = []
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try: fds.append(os.readlink(f'/proc/{pid}/fd/{fd}'))
            except OSError: pass
    except OSError: pass
print(json.dumps({
  'same': sorted(os.listdir('/proc/1/root')) == sorted(os.listdir('/')),
  'shadow': err(lambda: open('/proc/1/root/../../../etc/shadow').read()),
  'fds': sorted(set(f for f in fds if f.startswith('/') and not f.startswith(('/dev/null', '/proc/', '/tmp/', '/workspace', '/home', '/usr/')))),
  'mountsOk': True,
}))`,
    );
    expect(res.same).toBe(true);
    expect(res.shadow).toBe("ENOENT");
    expect(res.fds).toEqual([]);
  });

  it("A7 open_by_handle_at: a file handle from the volume cannot be opened (no CAP_DAC_READ_SEARCH in the host namespace)", async () => {
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
class FH(ctypes.Structure):
    _fields_ = [('bytes', ctypes.c_uint), ('type', ctypes.c_int), ('f', ctypes.c_ubyte * 128)]
h = FH(); h.bytes = 128; mount_id = ctypes.c_int()
got = libc.name_to_handle_at(-100, b'/workspace', ctypes.byref(h), ctypes.byref(mount_id), 0)
mfd = os.open('/workspace', os.O_RDONLY)
print(json.dumps({'handle': 'done' if got == 0 else errno.errorcode.get(ctypes.get_errno()), 'open': err(lambda: libc.open_by_handle_at(mfd, ctypes.byref(h), 0))}))`,
    );
    expect(res["open"]).toBe("EPERM");
  });

  it("A8 namespaces and mounts inside: unshare, a nested user namespace and mount all fail", async () => {
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
print(json.dumps({
  'userns': err(lambda: libc.unshare(0x10000000)),
  'mntns': err(lambda: libc.unshare(0x00020000)),
  'mount': err(lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)),
  'umount-volume': err(lambda: libc.umount2(b'/workspace', 2)),
}))`,
    );
    for (const [what, outcome] of Object.entries(res)) expect(outcome, what).not.toBe("done");
    expect(res["userns"]).toBe("EPERM");
  });

  it("A9 keyrings: keyctl/add_key cannot reach the host's kernel keyrings", async () => {
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
print(json.dumps({
  'keyctl': err(lambda: libc.syscall(250, 0, -3, 0)),
  'add_key': err(lambda: libc.syscall(248, b'user', b'msbv', b'x', 1, -3)),
}))`,
    );
    expect(res).toEqual({ keyctl: "ENOSYS", add_key: "ENOSYS" });
  });

  it("A10 identity changes: setuid to another uid, setgroups, uid_map and /proc/self/attr writes all fail", async () => {
    const res = await pyJson<Record<string, string>>(
      a,
      `${ERR}
def write(p, text):
    with open(p, 'w') as f: f.write(text)
print(json.dumps({
  'setuid': err(lambda: os.setuid(12345)),
  'setgroups': err(lambda: os.setgroups([0, 4])),
  'uid_map': err(lambda: write('/proc/self/uid_map', '0 0 4294967295')),
  'attr': err(lambda: write('/proc/self/attr/current', 'unconfined')),
}))`,
    );
    for (const [what, outcome] of Object.entries(res)) expect(outcome, what).not.toBe("done");
  });

  it("A11 core dumps: RLIMIT_CORE is 0 and cannot be raised, so a crash writes no core file", async () => {
    const res = await pyJson<{ limit: number[]; raise: string; cores: string[] }>(
      a,
      `${ERR}
import resource, subprocess, sys
limit = resource.getrlimit(resource.RLIMIT_CORE)
raise_ = err(lambda: resource.setrlimit(resource.RLIMIT_CORE, (1 << 30, 1 << 30)))
subprocess.run([sys.executable, '-c', 'import os, signal; os.chdir("/workspace"); os.kill(os.getpid(), signal.SIGSEGV)'])
print(json.dumps({'limit': list(limit), 'raise': raise_, 'cores': [n for n in os.listdir('/workspace') if n.startswith('core')]}))`,
    );
    expect(res.limit).toEqual([0, 0]);
    expect(["EPERM", "ValueError"]).toContain(res.raise);
    expect(res.cores).toEqual([]);
  });

  it("A12 per-sandbox uids: as root, A and B run as different unprivileged host uids", async () => {
    const uidsA = new Set(await hostUidsOf(await pidsOf("msbv-sandbox:att-a")));
    const uidsB = new Set(await hostUidsOf(await pidsOf("msbv-sandbox:att-b")));
    expect(uidsA.size).toBe(1);
    expect(uidsB.size).toBe(1);
    if (mode === "root") expect([...uidsA][0]).not.toBe([...uidsB][0]);
    else expect([...uidsA][0]).toBe(s.uid);
  });
});
