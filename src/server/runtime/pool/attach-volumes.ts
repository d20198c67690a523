import { spawn } from "node:child_process";
import { DevServerError } from "../../../errors/index.js";
import { mountOrder } from "../../../volumes/guest-paths.js";
import { openHostDirNoFollow, type OpenedHostDir } from "../containment/open-host-dir.js";
import type { SandboxIdentity } from "../containment/sandbox-identity.js";
import { descendants, readProcTable } from "../proc-tree.js";
import type { RuntimeVolume } from "../types.js";
import { ATTACH_SCRIPT } from "./attach-script.js";

const PYTHON = "/usr/bin/python3";
const STDERR_LIMIT = 4096;

export interface AttachTarget {
  /** Name the sandbox becomes (its hostname). */
  name: string;
  identity: SandboxIdentity;
  /** bubblewrap's pid (our child); the sandbox's init is its only child. */
  bwrapPid: number | undefined;
}

/**
 * Mounts `volumes` into a waiting pooled sandbox and sets its hostname (pool/attach-script.ts).
 * Every host folder is opened here without following symlinks and mounted by that descriptor, as
 * in a cold start; returns each folder's identity as opened, for replacedVolumes.
 */
export async function attachVolumes(
  target: AttachTarget,
  volumes: readonly RuntimeVolume[],
): Promise<Array<{ host: string; dev: number; ino: number }>> {
  const opened: OpenedHostDir[] = [];
  try {
    const ordered = mountOrder(volumes.map((volume) => ({ ...volume, readonly: volume.readonly === true })));
    const mounts = [];
    for (const [index, volume] of ordered.entries()) {
      const dir = await openHostDirNoFollow(volume.host, `volume at ${volume.guest} of sandbox "${target.name}"`);
      opened.push(dir);
      mounts.push({ fd: 3 + index, guest: volume.guest, readonly: volume.readonly, ownerUid: dir.uid, ownerGid: dir.gid });
    }
    const processes = await sandboxProcesses(target.bwrapPid);
    const spec = {
      pid: processes.init,
      // Launched at nice 19 to fill the pool; from now on it is a user's sandbox like any other.
      renice: processes.all,
      bwrapPid: target.bwrapPid,
      uid: target.identity.uid,
      gid: target.identity.gid,
      hostname: target.name,
      mounts,
    };
    await runHelper(
      target.name,
      [JSON.stringify(spec)],
      opened.map((dir) => dir.handle.fd),
    );
    return ordered.map((volume, index) => ({ host: volume.host, dev: opened[index]!.dev, ino: opened[index]!.ino }));
  } finally {
    await Promise.all(opened.map((dir) => dir.handle.close().catch(() => undefined)));
  }
}

/** The sandbox's init: bubblewrap's only child (its PID namespace's pid 1). */
export async function sandboxInit(bwrapPid: number | undefined): Promise<number> {
  return (await sandboxProcesses(bwrapPid)).init;
}

/** bubblewrap, its only child (the sandbox's init) and everything below it. */
async function sandboxProcesses(bwrapPid: number | undefined): Promise<{ init: number; all: number[] }> {
  const table = bwrapPid === undefined ? undefined : await readProcTable();
  const init = table && [...table.values()].find((stat) => stat.ppid === bwrapPid);
  if (!table || !init || bwrapPid === undefined)
    throw new DevServerError("The pooled sandbox has no init process any more.", { hint: "start the sandbox again" });
  return { init: init.pid, all: descendants(table, bwrapPid).map((stat) => stat.pid) };
}

function runHelper(name: string, args: string[], fds: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // -I: ignore PYTHON* variables and the user site; -S: no site. Empty environment, as the launcher.
    const child = spawn(PYTHON, ["-I", "-S", "-c", ATTACH_SCRIPT, ...args], { stdio: ["ignore", "ignore", "pipe", ...fds], env: {} });
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      stderr = (stderr + text).slice(-STDERR_LIMIT);
    });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) return resolve();
      reject(
        new DevServerError(
          `Cannot attach volumes to the pooled sandbox for "${name}": ${stderr.trim() || `helper ended with ${signal ?? `exit code ${code}`}`}`,
          {
            hint: "start the dev server with --pool-size 0 to start every sandbox cold",
            details: { sandbox: name },
          },
        ),
      );
    });
  });
}
