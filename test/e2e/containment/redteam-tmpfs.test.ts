import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PythonSandbox } from "../../../src/index.js";
import { MODES, pyJson, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// Memory exhaustion through the sandbox's private tmpfs mounts: /tmp, /var/tmp and /dev (where
// /dev/shm lives) are RAM. A sandbox with `memory = 128` writes 640 MiB of files into each; with
// no size on those mounts (and, as an ordinary user, no cgroup charging them), the host's RAM is
// the only bound. Every tmpfs must stop the writer at half of `memory` (ENOSPC); /dev is read-only.

const MIB = 1024 * 1024;
const MEMORY_MIB = 128;
const TRY_MIB = 640;

describe.each(MODES)("tmpfs exhaustion (server as %s)", (mode) => {
  let s: ContainmentServer;
  let sb: PythonSandbox;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    sb = await s.create("tmpfs-fill", { memory: MEMORY_MIB });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it(`a memory = ${MEMORY_MIB} sandbox cannot put ${TRY_MIB} MiB into /tmp, /var/tmp or /dev/shm`, async () => {
    // Each attempt runs in a child process, so a kill by the memory limit is an outcome, not a crash
    // of the REPL; the files are removed after each attempt.
    const res = await pyJson<Record<string, { written: number; outcome: string }>>(
      sb,
      `
import json, os, subprocess, sys
WRITER = '''
import errno, os, sys
target, total = sys.argv[1], int(sys.argv[2])
chunk = b'x' * ${MIB}
written = 0
try:
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, 'fill'), 'wb') as f:
        while written < total:
            f.write(chunk); f.flush(); written += 1
    print(written, 'done')
except OSError as e:
    print(written, errno.errorcode.get(e.errno, str(e.errno)))
'''
res = {}
for target in ['/tmp/fill', '/var/tmp/fill', '/dev/shm/fill', '/dev/fill']:
    p = subprocess.run([sys.executable, '-c', WRITER, target, '${TRY_MIB}'], capture_output=True, text=True)
    parts = p.stdout.split()
    res[target] = {'written': int(parts[0]) if parts else -1, 'outcome': parts[1] if len(parts) > 1 else 'killed %d' % p.returncode}
    subprocess.run(['rm', '-rf', target])
print(json.dumps(res))`,
    );
    expect(Object.keys(res)).toHaveLength(4);
    for (const [target, { written, outcome }] of Object.entries(res)) {
      expect(outcome, `${target}: ${JSON.stringify(res)}`).not.toBe("done");
      expect(written, target).toBeLessThanOrEqual(MEMORY_MIB / 2);
    }
  }, 180_000);
});
