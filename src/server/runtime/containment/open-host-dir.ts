import { closeSync, constants, fstatSync, lstatSync, openSync } from "node:fs";
import { DevServerError, ErrorCodes, HostPathError } from "../../../errors/index.js";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC } = constants as typeof constants & { O_CLOEXEC: number };
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | (O_CLOEXEC ?? 0o2000000);

/** Why opening a path component can fail that is down to the path (missing, a file, no access, too long). */
const PATH_ERRNOS = new Set(["ENOENT", "ENOTDIR", "EACCES", "EPERM", "ENAMETOOLONG"]);

/** A descriptor this process holds until `close` (which is safe to call more than once). */
export interface HeldDescriptor {
  readonly fd: number;
  close(): Promise<void>;
}

/** A host folder held open: what gets mounted is this descriptor, never its path again. */
export interface OpenedHostDir {
  handle: HeldDescriptor;
  /** Owner of the folder as it was opened (the idmapped mount maps this owner to the sandbox). */
  uid: number;
  gid: number;
  dev: number;
  ino: number;
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined;
}

/**
 * Opens an absolute, normalised host folder one component at a time from `/`, each step through
 * `/proc/self/fd/<parent>/<name>` with O_NOFOLLOW, so no symlink anywhere on the path is followed
 * and a folder swapped in after a component was opened cannot redirect the walk. A symlink (or a
 * non-folder) anywhere is refused with HOST_PATH_DENIED; use the folder's real path instead.
 *
 * The walk is synchronous: a handful of local system calls, done on the dev server's one thread.
 * Asynchronous, each step was a trip through libuv's thread pool, and in a burst of starts each trip
 * handed the CPU to a woken pool thread and queued this thread behind the sandboxes being started
 * (docs/benchmarks.md#scale). A host folder on a hung network filesystem stalls the server either
 * way: four such opens fill the thread pool that every other file operation waits on.
 */
export async function openHostDirNoFollow(hostPath: string, what: string): Promise<OpenedHostDir> {
  const parts = hostPath.split("/").filter(Boolean);
  if (!hostPath.startsWith("/") || parts.some((part) => part === "." || part === "..")) {
    throw new HostPathError(
      ErrorCodes.HOST_PATH_DENIED,
      `Refusing to mount "${hostPath}" (${what}): the host path must be absolute and normalised.`,
      {
        hint: "pass the folder's real absolute path",
        details: { host: hostPath },
      },
    );
  }
  let current = openSync("/", DIR_FLAGS);
  let walked = "";
  try {
    for (const part of parts) {
      walked += `/${part}`;
      let next: number;
      try {
        next = openSync(`/proc/self/fd/${current}/${part}`, DIR_FLAGS);
      } catch (error) {
        throw refusal(error, hostPath, walked, current, part, what);
      }
      closeSync(current);
      current = next;
    }
    const info = fstatSync(current);
    return { handle: heldDescriptor(current), uid: info.uid, gid: info.gid, dev: info.dev, ino: info.ino };
  } catch (error) {
    try {
      closeSync(current);
    } catch {
      /* already closed */
    }
    throw error;
  }
}

function heldDescriptor(fd: number): HeldDescriptor {
  let open = true;
  return {
    fd,
    close: async () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

function refusal(error: unknown, hostPath: string, walked: string, parentFd: number, part: string, what: string): Error {
  const code = errnoCode(error);
  let isLink = code === "ELOOP";
  if (code === "ENOTDIR")
    try {
      isLink = lstatSync(`/proc/self/fd/${parentFd}/${part}`).isSymbolicLink();
    } catch {
      isLink = false;
    }
  if (isLink) {
    return new HostPathError(
      ErrorCodes.HOST_PATH_DENIED,
      `Refusing to mount "${hostPath}" (${what}): "${walked}" is a symlink; symlinks in a volume's host path are never followed.`,
      {
        hint: "use the folder's real path (no symlink on the way)",
        details: { host: hostPath, symlink: walked },
        cause: error,
      },
    );
  }
  // Only what the path itself explains is the caller's (a 400 of sandbox.start); anything else (out of
  // descriptors or memory, an I/O error) is the server's fault and must not be blamed on the path.
  if (!PATH_ERRNOS.has(code ?? "")) {
    return new DevServerError(`Cannot mount "${hostPath}" (${what}): opening "${walked}" failed (${code ?? String(error)}).`, {
      hint: "check the dev server's host (open descriptors, memory, the disk) and start again",
      details: { host: hostPath },
      cause: error,
    });
  }
  return new HostPathError(
    ErrorCodes.HOST_PATH_INVALID,
    `Cannot mount "${hostPath}" (${what}): "${walked}" is not an openable folder (${code ?? String(error)}).`,
    {
      hint: "create the folder on the host, or fix the volume's host path",
      details: { host: hostPath },
      cause: error,
    },
  );
}
