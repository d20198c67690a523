import { constants } from "node:fs";
import { lstat, open, type FileHandle } from "node:fs/promises";
import { DevServerError, ErrorCodes, HostPathError } from "../../../errors/index.js";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC } = constants as typeof constants & { O_CLOEXEC: number };
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | (O_CLOEXEC ?? 0o2000000);

/** Why opening a path component can fail that is down to the path (missing, a file, no access, too long). */
const PATH_ERRNOS = new Set(["ENOENT", "ENOTDIR", "EACCES", "EPERM", "ENAMETOOLONG"]);

/** A host folder held open: what gets mounted is this descriptor, never its path again. */
export interface OpenedHostDir {
  handle: FileHandle;
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
  let current = await open("/", DIR_FLAGS);
  let walked = "";
  try {
    for (const part of parts) {
      walked += `/${part}`;
      let next: FileHandle;
      try {
        next = await open(`/proc/self/fd/${current.fd}/${part}`, DIR_FLAGS);
      } catch (error) {
        throw await refusal(error, hostPath, walked, current.fd, part, what);
      }
      await current.close();
      current = next;
    }
    const info = await current.stat();
    return { handle: current, uid: info.uid, gid: info.gid, dev: info.dev, ino: info.ino };
  } catch (error) {
    await current.close().catch(() => undefined);
    throw error;
  }
}

async function refusal(error: unknown, hostPath: string, walked: string, parentFd: number, part: string, what: string): Promise<Error> {
  const code = errnoCode(error);
  let isLink = code === "ELOOP";
  if (code === "ENOTDIR")
    isLink = await lstat(`/proc/self/fd/${parentFd}/${part}`).then(
      (info) => info.isSymbolicLink(),
      () => false,
    );
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
