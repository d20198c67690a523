import { access, constants, mkdir, readdir, readFile, rmdir, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DevServerError } from "../../../errors/index.js";
import type { SandboxIdentity } from "./sandbox-identity.js";

// Per-sandbox resource limits (see docs/security.md, "Limits"). Which mechanism:
// - cgroup-v1: the server is root and the v1 `memory` and `pids` hierarchies are mounted (these
//   machines, CI). Each sandbox gets msbv/<name>-<uid> in both; memory.limit_in_bytes = `memory`,
//   pids.max = PIDS_MAX. The launcher joins them before exec, so nothing of the sandbox ever runs
//   outside them. A whole-tree limit: the OOM killer ends the sandbox's biggest process.
// - rlimit (everything else: ordinary user, cgroup v2 without delegation): per process
//   RLIMIT_DATA = `memory` (a single process cannot allocate more; several can) and RLIMIT_NPROC.
//   With a dedicated uid (server root) RLIMIT_NPROC counts exactly the sandbox's processes; as an
//   ordinary user it counts all of that user's processes, so the bound is "what that user runs
//   now + PIDS_MAX" (weaker: documented).
// cgroup v2 (delegated or as root) is not used yet: these machines have none to test it on.
// `cpus` is not enforced by any mechanism (documented).
// In every mode RLIMIT_CORE = 0: a crash never writes a core file of sandbox memory on the host.

export const PIDS_MAX = 256;
const CGROUP_V1_ROOT = "/sys/fs/cgroup";

export type LimitMechanism = "cgroup-v1" | "rlimit";

export interface LimitPlan {
  mechanism: LimitMechanism;
  /** `cgroup.procs` files the launcher writes its own pid to before exec. */
  cgroupProcs: string[];
  /** Python `resource` names → value (soft = hard). */
  rlimits: Record<string, number>;
  /** Removes the sandbox's cgroups once nothing of it is left. */
  cleanup(): Promise<void>;
}

async function writable(file: string): Promise<boolean> {
  try {
    await access(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The mechanism a sandbox started now would get, for `msbv doctor` and the runtime. */
export async function detectLimitMechanism(isRoot: boolean): Promise<{ mechanism: LimitMechanism; detail: string }> {
  if (
    isRoot &&
    (await writable(path.join(CGROUP_V1_ROOT, "memory", "cgroup.procs"))) &&
    (await writable(path.join(CGROUP_V1_ROOT, "pids", "cgroup.procs")))
  ) {
    return { mechanism: "cgroup-v1", detail: `cgroup v1 memory + pids (pids.max ${PIDS_MAX}, memory.limit_in_bytes = sandbox memory)` };
  }
  return {
    mechanism: "rlimit",
    detail: `rlimits only (RLIMIT_DATA = sandbox memory per process, RLIMIT_NPROC ${isRoot ? PIDS_MAX : `user's processes + ${PIDS_MAX}`}): ${isRoot ? "no writable cgroup v1 memory/pids hierarchy" : "the dev server is not root"}`,
  };
}

async function countUserProcesses(uid: number): Promise<number> {
  let count = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, "utf8");
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      // Threads count towards RLIMIT_NPROC too.
      if (Number(real) === uid) count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // gone
    }
  }
  return count;
}

/** Size of each private tmpfs (/tmp, /var/tmp, /dev/shm) when the sandbox sets no `memory`. */
export const DEFAULT_TMPFS_MIB = 1024;

/**
 * Bytes each of the sandbox's private tmpfs mounts may hold: half its `memory`. tmpfs is RAM; unsized,
 * it would hold half the host's RAM per mount, and as an ordinary user no cgroup charges it. Half,
 * so that as root (where the memory cgroup charges tmpfs pages) a full /tmp leaves the sandbox's
 * processes room and the writer gets ENOSPC instead of the interpreter being OOM-killed.
 */
export function tmpfsBytes(memoryMiB: number | undefined): number {
  return Math.floor(((memoryMiB ?? DEFAULT_TMPFS_MIB) * 1024 * 1024) / 2);
}

export async function prepareLimits(
  name: string,
  identity: SandboxIdentity,
  memoryMiB: number | undefined,
  mechanism: LimitMechanism,
): Promise<LimitPlan> {
  const rlimits: Record<string, number> = { RLIMIT_CORE: 0 };
  if (mechanism === "rlimit") {
    rlimits["RLIMIT_NPROC"] = identity.kind === "dedicated" ? PIDS_MAX : (await countUserProcesses(identity.uid)) + PIDS_MAX;
    if (memoryMiB !== undefined) rlimits["RLIMIT_DATA"] = memoryMiB * 1024 * 1024;
    return { mechanism, cgroupProcs: [], rlimits, cleanup: async () => undefined };
  }
  // Belt and braces: the dedicated uid is the sandbox's alone, so NPROC bounds it too.
  rlimits["RLIMIT_NPROC"] = PIDS_MAX;
  const leaf = `${name}-${identity.uid}`;
  const dirs = ["memory", "pids"].map((controller) => path.join(CGROUP_V1_ROOT, controller, "msbv", leaf));
  const [memoryDir, pidsDir] = dirs as [string, string];
  try {
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    if (memoryMiB !== undefined) {
      await writeFile(path.join(memoryDir, "memory.limit_in_bytes"), String(memoryMiB * 1024 * 1024));
      // With swap, memsw bounds memory + swap (must be set after the plain limit).
      await writeFile(path.join(memoryDir, "memory.memsw.limit_in_bytes"), String(memoryMiB * 1024 * 1024)).catch(() => undefined);
    }
    await writeFile(path.join(pidsDir, "pids.max"), String(PIDS_MAX));
  } catch (error) {
    await removeCgroups(dirs);
    throw new DevServerError(`Cannot set up the limits of sandbox "${name}": ${(error as Error).message}`, {
      hint: "check that /sys/fs/cgroup/memory and /sys/fs/cgroup/pids are writable by the dev server (it runs as root)",
      details: { sandbox: name },
      cause: error,
    });
  }
  return {
    mechanism,
    cgroupProcs: dirs.map((dir) => path.join(dir, "cgroup.procs")),
    rlimits,
    cleanup: () => removeCgroups(dirs),
  };
}

const STALE_CGROUP_MS = 60_000;

/**
 * Removes empty sandbox cgroups left by a dev server that was killed before it could clean up.
 * rmdir only succeeds on a cgroup without tasks, so a live sandbox's group is never touched; the age
 * check keeps away from a group another server has just made and not yet joined.
 */
export async function sweepStaleCgroups(now = Date.now()): Promise<void> {
  for (const controller of ["memory", "pids"]) {
    const parent = path.join(CGROUP_V1_ROOT, controller, "msbv");
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(parent, entry.name);
      const info = await stat(dir).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_CGROUP_MS) await rmdir(dir).catch(() => undefined);
    }
  }
}

async function removeCgroups(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    // The kernel refuses rmdir until the last task has fully exited; that takes a moment after SIGKILL.
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await rmdir(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") break;
        await sleep(20);
      }
    }
  }
}
