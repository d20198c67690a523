import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { mountApiPrelude } from "../../../../../src/server/runtime/containment/mount-api-python.js";

// The idmap helper spawns a process that makes a user namespace and then waits until the helper has
// its descriptor and kills it. A helper killed in between (it dies with the dev server) must not leave
// that process waiting on as an orphan: it waits on a pipe only the helper writes to, so the helper's
// death is its end of file. Real python3, real posix_spawn, unshare and user namespace.

/** Runs idmap_userns in a helper that SIGKILLs itself right after its holder reported in; returns the holder's pid. */
async function holderOfKilledHelper(prelude: string): Promise<number> {
  const script = `${prelude}
import signal
real_spawn, real_read = os.posix_spawn, os.read
def spawn(*args, **kwargs):
    pid = real_spawn(*args, **kwargs)
    print(pid, flush=True)
    return pid
def read_then_die(fd, n):
    data = real_read(fd, n)
    os.kill(os.getpid(), signal.SIGKILL)
os.posix_spawn, os.read = spawn, read_then_die
idmap_userns(0, 0)
`;
  const child = spawn("/usr/bin/python3", ["-c", script, JSON.stringify({ uid: 100_000, gid: 100_000 })], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  const [, signal] = await once(child, "exit");
  expect(signal).toBe("SIGKILL");
  return Number(out.trim());
}

function alive(pid: number): boolean {
  try {
    // A zombie is gone for this purpose: it holds nothing and runs nothing.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 25) {
    if (!alive(pid)) return true;
    await sleep(25);
  }
  return !alive(pid);
}

it("the user-namespace holder dies with an idmap helper killed before it could kill the holder", async () => {
  const holder = await holderOfKilledHelper(mountApiPrelude("test"));
  expect(holder).toBeGreaterThan(1);
  expect(await goneWithin(holder, 3000)).toBe(true);
});

it("control: a holder that does not wait on the helper's pipe outlives its helper", async () => {
  const unguarded = mountApiPrelude("test").replace("echo x; read _", "echo x; exec sleep 60");
  expect(unguarded).not.toBe(mountApiPrelude("test"));
  const holder = await holderOfKilledHelper(unguarded);
  try {
    expect(await goneWithin(holder, 1000)).toBe(false);
  } finally {
    process.kill(holder, "SIGKILL");
  }
});
