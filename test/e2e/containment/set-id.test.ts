import { lstat, readdir } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PythonSandbox } from "../../../src/index.js";
import { MODES, pyJson, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// Issue 11 finding 5: a sandbox must not be able to leave a set-id file (or a file with
// capabilities) on the host through a volume, whichever way it tries.

const ATTEMPTS = String.raw`
import ctypes, errno, json, os, shutil, stat, subprocess, tarfile, io
libc = ctypes.CDLL(None, use_errno=True)
res = {}
def attempt(name, fn):
    try:
        fn()
        res[name] = 'done'
    except OSError as e:
        res[name] = errno.errorcode.get(e.errno, str(e.errno))
    except Exception as e:
        res[name] = type(e).__name__
W = '/workspace'
shutil.copy2('/usr/bin/python3', W + '/py')
for mode in (0o4755, 0o2755, 0o6777):
    attempt('chmod %o' % mode, lambda: os.chmod(W + '/py', mode))
    attempt('fchmod %o' % mode, lambda: os.fchmod(os.open(W + '/py', os.O_RDONLY), mode))
    attempt('fchmodat %o' % mode, lambda: os.chmod('py', mode, dir_fd=os.open(W, os.O_RDONLY)))
    attempt('creat %o' % mode, lambda: os.close(os.open(W + '/new-%o' % mode, os.O_CREAT | os.O_WRONLY, mode)))
    attempt('mkdir %o' % mode, lambda: os.mkdir(W + '/dir-%o' % mode, mode))
    attempt('mknod %o' % mode, lambda: os.mknod(W + '/fifo-%o' % mode, stat.S_IFIFO | mode))
    attempt('shell chmod %o' % mode, lambda: subprocess.run(['chmod', '%o' % mode, W + '/py'], check=True, capture_output=True) and None)
    def raw(nr, *args):
        # chmod(90) / fchmodat(268) / fchmodat2(452) straight through syscall(2), no libc wrapper.
        def call():
            if libc.syscall(nr, *args) != 0: raise OSError(ctypes.get_errno(), 'syscall %d' % nr)
        return call
    path = (W + '/py').encode()
    attempt('raw chmod %o' % mode, raw(90, path, mode))
    attempt('raw fchmodat %o' % mode, raw(268, -100, path, mode))
    attempt('raw fchmodat2 %o' % mode, raw(452, -100, path, mode, 0))
src = W + '/src-suid'
shutil.copy('/usr/bin/python3', src)
attempt('shutil.copy2 of a 4755 file', lambda: (os.chmod(src, 0o4755), shutil.copy2(src, W + '/copy2')))
def tar_extract():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as t:
        info = tarfile.TarInfo('from-tar'); info.mode = 0o6755; data = b'#!/bin/sh\nid\n'; info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    buf.seek(0)
    with tarfile.open(fileobj=buf) as t: t.extractall(W, filter='fully_trusted')
attempt('tar extraction 6755', tar_extract)
# File capabilities are as good as setuid: VFS_CAP_REVISION_2 with cap_setuid in permitted+effective.
cap = bytes([0, 0, 0, 2, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
attempt('security.capability xattr', lambda: os.setxattr(W + '/py', 'security.capability', cap))
attempt('nested user namespace', lambda: (_ for _ in ()).throw(OSError(ctypes.get_errno(), 'x')) if libc.unshare(0x10000000) != 0 else None)
attempt('openat2', lambda: (_ for _ in ()).throw(OSError(ctypes.get_errno(), 'x')) if libc.syscall(437, -100, b'/workspace/oa2', None, 0) < 0 else None)
attempt('io_uring_setup', lambda: (_ for _ in ()).throw(OSError(ctypes.get_errno(), 'x')) if libc.syscall(425, 1, ctypes.create_string_buffer(120)) < 0 else None)
os.chmod(W + '/py', 0o755)
res['plain chmod 755'] = oct(os.stat(W + '/py').st_mode & 0o7777)
print(json.dumps(res))
`;

describe.each(MODES)("set-id bits (server as %s)", (mode) => {
  let s: ContainmentServer;
  let sb: PythonSandbox;
  let ws: string;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    ws = await s.folder("ws");
    sb = await s.create("setid", { volumes: ["./ws:/workspace"] });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("every way of setting S_ISUID/S_ISGID or file capabilities fails, and the host sees no such file", async () => {
    const res = await pyJson<Record<string, string>>(sb, ATTEMPTS);
    for (const [attempt, outcome] of Object.entries(res)) {
      if (attempt === "plain chmod 755") continue;
      expect(outcome, attempt).not.toBe("done");
    }
    expect(res["chmod 4755"]).toBe("EPERM");
    expect(res["openat2"]).toBe("ENOSYS");
    expect(res["io_uring_setup"]).toBe("ENOSYS");
    // The filter refuses only the set-id bits: ordinary modes still work.
    expect(res["plain chmod 755"]).toBe("0o755");
    const setId: string[] = [];
    for (const name of await readdir(ws)) {
      const info = await lstat(path.join(ws, name));
      if (info.mode & 0o6000) setId.push(`${name} ${(info.mode & 0o7777).toString(8)}`);
    }
    expect(setId).toEqual([]);
    expect(await readdir(ws)).toContain("py");
  });
});
