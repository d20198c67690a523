import { getPriority } from "node:os";
import { DevServerError } from "../../../errors/index.js";
import { mountOrder } from "../../../volumes/guest-paths.js";
import { openHostDirNoFollow, type OpenedHostDir } from "../containment/open-host-dir.js";
import type { SandboxIdentity } from "../containment/sandbox-identity.js";
import { processTree } from "../proc-tree.js";
import type { RuntimeVolume } from "../types.js";
import type { AttachServer } from "./attach-server.js";

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
  server: AttachServer,
  target: AttachTarget,
  volumes: readonly RuntimeVolume[],
): Promise<Array<{ host: string; dev: number; ino: number }>> {
  const opened: OpenedHostDir[] = [];
  try {
    const ordered = mountOrder(volumes.map((volume) => ({ ...volume, readonly: volume.readonly === true })));
    const mounts = [];
    for (const volume of ordered) {
      const dir = await openHostDirNoFollow(volume.host, `volume at ${volume.guest} of sandbox "${target.name}"`);
      opened.push(dir);
      // Held open until the helper answers, so the number names this folder while it is read.
      mounts.push({
        fdPath: `/proc/${process.pid}/fd/${dir.handle.fd}`,
        dev: dir.dev,
        ino: dir.ino,
        guest: volume.guest,
        readonly: volume.readonly,
        ownerUid: dir.uid,
        ownerGid: dir.gid,
      });
    }
    const processes = await sandboxProcesses(target.bwrapPid);
    await server.request(target.name, {
      pid: processes.init,
      bwrapPid: target.bwrapPid as number,
      uid: target.identity.uid,
      gid: target.identity.gid,
      hostname: target.name,
      // Launched at nice 19 to fill the pool; from now on it is a user's sandbox like any other.
      renice: processes.all,
      nice: getPriority(),
      mounts,
    });
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
  const all = bwrapPid === undefined ? [] : await processTree(bwrapPid);
  // With --unshare-pid, bwrap's only child is the namespace's init.
  const init = all[1];
  if (init === undefined) throw new DevServerError("The pooled sandbox has no init process any more.", { hint: "start the sandbox again" });
  return { init, all };
}
