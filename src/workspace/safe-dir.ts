import { constants, existsSync, type Stats } from "node:fs";
import { lstat, mkdir, open, type FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { ErrorCodes } from "../errors/codes.js";
import { WorkspaceError } from "../errors/errors.js";
import { isMsbvError } from "../errors/msbv-error.js";
import type { WalkStrategy } from "./types.js";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;

/** `procfd` when this system has `/proc/self/fd` magic links (Linux with /proc mounted). */
export function defaultStrategy(): WalkStrategy {
  return existsSync("/proc/self/fd") ? "procfd" : "path";
}

export function errnoCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : undefined;
}

/** Maps an OS error on `rel` to a WorkspaceError (MsbvErrors pass through). */
export function toWorkspaceError(e: unknown, rel: string, action: string): WorkspaceError | unknown {
  if (isMsbvError(e)) return e;
  const code = errnoCode(e);
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new WorkspaceError(ErrorCodes.WORKSPACE_NOT_FOUND, `cannot ${action} "${rel}": it does not exist in the workspace`, {
      cause: e,
      hint: "check the path (it is relative to the workspace root)",
    });
  }
  if (code === "ELOOP") return escapeError(rel, "a symlink appeared on the way", e);
  if (code === undefined) return e;
  return new WorkspaceError(ErrorCodes.WORKSPACE_IO, `cannot ${action} "${rel}": ${code}`, {
    cause: e,
    hint: "check permissions and free space of the workspace folder",
  });
}

export function escapeError(rel: string, why: string, cause?: unknown): WorkspaceError {
  return new WorkspaceError(ErrorCodes.WORKSPACE_ESCAPE, `refused "${rel}": ${why}`, {
    cause,
    hint: "the workspace never follows symlinks or opens special files; use the real path inside the workspace",
  });
}

export function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return "a symlink";
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device file";
  return "a regular file";
}

function sameInode(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * An open folder inside the workspace. `child(name)` names an entry of THIS folder: with `procfd` the
 * lookup starts from the held descriptor, so renaming or swapping the folder's path afterwards cannot
 * redirect it.
 */
export class SafeDir {
  private constructor(
    private readonly handle: FileHandle,
    private readonly dirPath: string,
    private readonly strategy: WalkStrategy,
    /** Workspace-relative path of this folder, for messages. */
    readonly rel: string,
  ) {}

  /** Opens the workspace root (its own path is trusted and followed: the caller chose it). */
  static async openRoot(root: string, strategy: WalkStrategy): Promise<SafeDir> {
    const handle = await open(root, O_RDONLY | O_DIRECTORY);
    return new SafeDir(handle, root, strategy, ".");
  }

  /** Path that refers to this folder itself. */
  selfPath(): string {
    return this.strategy === "procfd" ? `/proc/self/fd/${this.handle.fd}` : this.dirPath;
  }

  child(name: string): string {
    return this.strategy === "procfd" ? `/proc/self/fd/${this.handle.fd}/${name}` : path.join(this.dirPath, name);
  }

  childRel(name: string): string {
    return this.rel === "." ? name : `${this.rel}/${name}`;
  }

  /** lstat of an entry; undefined when missing. */
  async lstatChild(name: string): Promise<Stats | undefined> {
    try {
      return await lstat(this.child(name));
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return undefined;
      throw e;
    }
  }

  /** Opens a sub-folder without following a symlink; creates it when missing and `create` is set. */
  async openDir(name: string, create = false): Promise<SafeDir> {
    const rel = this.childRel(name);
    let st = await this.lstatChild(name);
    if (!st && create) {
      await mkdir(this.child(name)).catch((e: unknown) => {
        if (errnoCode(e) !== "EEXIST") throw e;
      });
      st = await this.lstatChild(name);
    }
    if (!st) throw toWorkspaceError(Object.assign(new Error("ENOENT"), { code: "ENOENT" }), rel, "open");
    if (st.isSymbolicLink()) throw escapeError(rel, "it is a symlink (symlinks are never followed)");
    if (!st.isDirectory()) {
      throw new WorkspaceError(ErrorCodes.WORKSPACE_NOT_FOUND, `"${rel}" is ${kindOf(st)}, not a folder`, {
        hint: "pass the path of a folder",
      });
    }
    let handle: FileHandle;
    try {
      handle = await open(this.child(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (e) {
      const code = errnoCode(e);
      if (code === "ELOOP" || code === "ENOTDIR") throw escapeError(rel, "it was replaced by a symlink while being opened", e);
      throw e;
    }
    const fst = await handle.stat();
    if (!fst.isDirectory() || !sameInode(st, fst)) {
      await handle.close();
      throw escapeError(rel, "it changed while being opened");
    }
    return new SafeDir(handle, path.join(this.dirPath, name), this.strategy, rel);
  }

  /**
   * Opens a regular file for reading without following a symlink. Special files are refused before
   * they are opened (opening a FIFO or device can block or have side effects).
   */
  async openFile(name: string): Promise<FileHandle> {
    const rel = this.childRel(name);
    const st = await this.lstatChild(name);
    if (!st) throw toWorkspaceError(Object.assign(new Error("ENOENT"), { code: "ENOENT" }), rel, "read");
    if (st.isDirectory()) {
      throw new WorkspaceError(ErrorCodes.WORKSPACE_NOT_FOUND, `"${rel}" is a folder, not a file`, { hint: "use list() for folders" });
    }
    if (!st.isFile()) throw escapeError(rel, `it is ${kindOf(st)}`);
    let handle: FileHandle;
    try {
      // O_NONBLOCK: if a FIFO is swapped in after the lstat, open must not hang waiting for a writer.
      handle = await open(this.child(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    } catch (e) {
      if (errnoCode(e) === "ELOOP") throw escapeError(rel, "it was replaced by a symlink while being opened", e);
      throw e;
    }
    const fst = await handle.stat();
    // With procfd the opened file is inside the workspace by construction; a changed inode is then a
    // legitimate concurrent replace. With the path strategy it may mean a redirected lookup.
    if (!fst.isFile() || (this.strategy === "path" && !sameInode(st, fst))) {
      await handle.close();
      throw escapeError(rel, fst.isFile() ? "it changed while being opened" : `it became ${kindOf(fst)} while being opened`);
    }
    return handle;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
