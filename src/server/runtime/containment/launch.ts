import { constants } from "node:fs";
import { access, lstat, mkdir, open, type FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { DevServerError } from "../../../errors/index.js";
import { buildBwrapArgs, type BwrapPlan, type FdBind } from "../bwrap-args.js";
import { cleanFdCommand } from "../fd-hygiene.js";
import { repairRootLayer } from "../root-layer.js";
import { LAUNCHER_SCRIPT } from "./launcher-script.js";
import type { LimitPlan } from "./limits.js";
import { openHostDirNoFollow, type HeldDescriptor, type OpenedHostDir } from "./open-host-dir.js";
import type { SandboxIdentity } from "./sandbox-identity.js";

// Puts one sandbox's containment together: which host uid, which descriptors, which program runs
// bubblewrap. The server opens every folder and file itself (no symlink followed) and hands the
// descriptors to the child through spawn's stdio slots 3..n; bubblewrap's arguments name those
// numbers. Two ways to start bubblewrap:
// - server as root: the Python launcher (launcher-script.ts) makes idmapped mounts of the
//   writable folders, joins the cgroups, drops to the sandbox's uid and execs bwrap;
// - server as an ordinary user: the fd-hygiene wrapper execs `prlimit ... bwrap` (same uid).
// Both exec in place, so the spawned pid is bwrap's pid, and both start it with an empty
// environment: bwrap's pid 1 inside keeps its environment, visible in /proc/1/environ.

/** Where the launcher attaches idmapped trees, inside its private mount namespace only. */
export const IDMAP_ATTACH_DIR = "/run/msbv-idmap";
const PYTHON = "/usr/bin/python3";
const PRLIMIT_CANDIDATES = ["/usr/bin/prlimit", "/bin/prlimit"];

const PRLIMIT_FLAGS: Record<string, string> = { RLIMIT_CORE: "--core", RLIMIT_NPROC: "--nproc", RLIMIT_DATA: "--data" };

export interface ContainmentInput {
  name: string;
  /** Niceness for a background (pooled) launch; the attach helper sets it back to the server's own at claim time. */
  nice?: number;
  bwrapPath: string;
  identity: SandboxIdentity;
  limits: LimitPlan;
  /** Path of the compiled seccomp program (a root-owned file in the state dir). */
  seccompFile: string;
  /** Host files copied to these guest paths (minimal /etc). */
  etcFiles: Array<{ host: string; guest: string }>;
  /** The sandbox's persistent writable root (bound at `/`, repaired before bubblewrap sees it). */
  root?: string;
  home: string;
  dotSandbox: string;
  volumes: Array<{ host: string; guest: string; readonly: boolean }>;
  plan: Omit<BwrapPlan, "etcFiles" | "seccompFd" | "root" | "home" | "dotSandbox" | "volumes">;
}

export interface PreparedLaunch {
  command: string;
  args: string[];
  /** Descriptors for spawn's stdio slots 3..n (close them once spawned). */
  fds: number[];
  /** bwrap's argv as it will appear in /proc/<pid>/cmdline. */
  bwrapArgv: string[];
  /** Identity of each volume's host folder as opened (what the sandbox really mounts). */
  volumeIds: Array<{ host: string; dev: number; ino: number }>;
  /** Closes the server's copies of the descriptors. */
  close(): Promise<void>;
}

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Opens a regular file without following a symlink in its last component (state files only). */
async function openFile(file: string): Promise<FileHandle> {
  return open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
}

export async function prepareLaunch(input: ContainmentInput): Promise<PreparedLaunch> {
  const handles: HeldDescriptor[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(handles.splice(0).map((handle) => handle.close().catch(() => undefined)));
  };
  try {
    // Slot numbers: the child's fd for handles[i] is 3 + i.
    const slot = (handle: HeldDescriptor): number => {
      handles.push(handle);
      return 2 + handles.length;
    };
    const seccompFd = slot(await openFile(input.seccompFile));
    const etcFiles = [];
    for (const file of input.etcFiles) etcFiles.push({ fd: slot(await openFile(file.host)), guest: file.guest });
    const mounts: Array<{ fd: number; ownerUid: number; ownerGid: number; readonly: boolean }> = [];
    const bindOf = async (host: string, guest: string, readonly: boolean, what: string): Promise<FdBind & { opened: OpenedHostDir }> => {
      const opened: OpenedHostDir = await openHostDirNoFollow(host, what);
      const fd = slot(opened.handle);
      mounts.push({ fd, ownerUid: opened.uid, ownerGid: opened.gid, readonly });
      return { fd, guest, readonly, opened };
    };
    // The writable root gets what /home gets: opened without following symlinks, and (server as
    // root) idmapped so the sandbox's uid 0 owns it and can `mkdir /data`.
    const root = input.root === undefined ? undefined : await bindOf(input.root, "/", false, `sandbox "${input.name}" root`);
    const home = await bindOf(input.home, "/home", false, `sandbox "${input.name}" home`);
    const dotSandbox = await bindOf(input.dotSandbox, "/.sandbox", false, `sandbox "${input.name}" /.sandbox`);
    const volumes: FdBind[] = [];
    const volumeIds: PreparedLaunch["volumeIds"] = [];
    for (const volume of input.volumes) {
      const bind = await bindOf(volume.host, volume.guest, volume.readonly, `volume at ${volume.guest} of sandbox "${input.name}"`);
      volumes.push({ fd: bind.fd, guest: bind.guest, readonly: bind.readonly });
      volumeIds.push({ host: volume.host, dev: bind.opened.dev, ino: bind.opened.ino });
    }
    const plain = (bind: FdBind): FdBind => ({ fd: bind.fd, guest: bind.guest, readonly: bind.readonly });
    const bwrapArgs = buildBwrapArgs({
      ...input.plan,
      etcFiles,
      seccompFd,
      ...(root ? { root: plain(root) } : {}),
      home: plain(home),
      dotSandbox: plain(dotSandbox),
      volumes,
    });
    // The sandbox wrote that root last time and bubblewrap creates its mount points in it by path:
    // repair it through the descriptor just opened (the very folder bwrap will get), while stopped.
    if (root) await repairRootLayer(`/proc/self/fd/${root.opened.handle.fd}`, bwrapArgs);
    const fds = handles.map((handle) => handle.fd);
    const bwrapArgv = [input.bwrapPath, ...bwrapArgs];
    if (input.identity.kind === "dedicated") {
      if (!(await executable(PYTHON))) {
        throw new DevServerError(
          `Cannot start sandbox "${input.name}": the dev server runs as root, and dropping to an unprivileged uid with idmapped volumes needs Debian's ${PYTHON} (ctypes), which is missing.`,
          {
            hint: "install python3 (`apt-get install python3`), or run the dev server as an ordinary user",
            details: { sandbox: input.name },
          },
        );
      }
      await ensureAttachDir();
      const spec = {
        uid: input.identity.uid,
        gid: input.identity.gid,
        mounts,
        keep: fds.map((_, index) => 3 + index),
        attachDir: IDMAP_ATTACH_DIR,
        cgroupProcs: input.limits.cgroupProcs,
        parentPid: process.pid,
        nice: input.nice ?? 0,
        rlimits: input.limits.rlimits,
        bwrap: input.bwrapPath,
        args: bwrapArgs,
      };
      // -I: ignore PYTHON* variables and the user site (the environment is empty anyway); -S: no site.
      return { command: PYTHON, args: ["-I", "-S", "-c", LAUNCHER_SCRIPT, JSON.stringify(spec)], fds, bwrapArgv, volumeIds, close };
    }
    const prlimit = await firstExecutable(PRLIMIT_CANDIDATES);
    if (!prlimit) {
      throw new DevServerError(`Cannot start sandbox "${input.name}": its process and memory limits need prlimit (util-linux), which is missing.`, {
        hint: "install util-linux (`apt-get install util-linux`)",
        details: { sandbox: input.name },
      });
    }
    const limitArgs = Object.entries(input.limits.rlimits).map(([name, value]) => `${PRLIMIT_FLAGS[name] ?? "--unknown"}=${value}:${value}`);
    const clean = await cleanFdCommand(
      prlimit,
      [...limitArgs, "--", input.bwrapPath, ...bwrapArgs],
      fds.map((_, index) => 3 + index),
    );
    return { command: clean.command, args: clean.args, fds, bwrapArgv, volumeIds, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function firstExecutable(candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) if (await executable(candidate)) return candidate;
  return undefined;
}

/**
 * The launcher mounts a tmpfs over this folder in its own mount namespace; on the host it stays an
 * empty root-owned folder. It must not be a symlink (the launcher would mount wherever it points).
 */
async function ensureAttachDir(): Promise<void> {
  await mkdir(IDMAP_ATTACH_DIR, { recursive: true, mode: 0o755 });
  const info = await lstat(IDMAP_ATTACH_DIR);
  const parent = await lstat(path.dirname(IDMAP_ATTACH_DIR));
  if (!info.isDirectory() || info.uid !== 0 || !parent.isDirectory() || parent.uid !== 0) {
    throw new DevServerError(
      `Cannot start sandboxes: ${IDMAP_ATTACH_DIR} must be a root-owned folder (not a symlink) under a root-owned ${path.dirname(IDMAP_ATTACH_DIR)}.`,
      {
        hint: `remove ${IDMAP_ATTACH_DIR} and start the sandbox again`,
      },
    );
  }
}
