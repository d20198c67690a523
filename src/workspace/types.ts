/** One entry of a workspace listing. Symlinks are listed as such and never followed. */
export interface WorkspaceEntry {
  /** Base name. */
  name: string;
  /** Path relative to the workspace root, `/`-separated. */
  path: string;
  /** `other` is a FIFO, socket or device: listed, but never opened. */
  type: "file" | "directory" | "symlink" | "other";
  /** Bytes (for a symlink: the length of its target text). */
  size: number;
  mtimeMs: number;
  /** Permission bits (`st_mode & 0o7777`). */
  mode: number;
  /** For symlinks: where it points, as stored (not resolved). */
  linkTarget?: string;
}

export interface ListOptions {
  /** Descend into sub-folders (never through symlinks). Default false. */
  recursive?: boolean;
}

export interface WriteOptions {
  /** Create missing parent folders. Default false, like `fs.writeFile`. */
  createParents?: boolean;
  /** Permission bits for the file. Default: keep the replaced file's bits, else 0o666 minus umask. Set-id bits (0o6000) are always dropped. */
  mode?: number;
}

export interface RemoveOptions {
  /** Remove a folder and everything in it (never following symlinks). Default false. */
  recursive?: boolean;
}

/** Content digest of one regular file, as recorded by `Workspace.snapshot()`. */
export interface FileDigest {
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  mode: number;
  mtimeMs: number;
}

/**
 * How path components are opened. `procfd` (Linux): every component is looked up relative to an open
 * folder descriptor through `/proc/self/fd/N/<name>`, i.e. `openat` semantics, so a symlink swapped in
 * mid-operation cannot redirect it. `path`: lstat + `O_NOFOLLOW` + dev/ino checks on full paths, a weaker
 * guard for systems without `/proc` (an intermediate folder swapped for a symlink in the instant between
 * check and open can still redirect a lookup).
 */
export type WalkStrategy = "procfd" | "path";

export interface WorkspaceOptions {
  /** Default: `procfd` when `/proc/self/fd` exists, else `path`. */
  strategy?: WalkStrategy;
  /**
   * Largest file `read`/`readText` return (default 256 MiB): a sandbox can write a sparse file of any
   * size in no disk space, and reading it whole would hold it all in memory.
   */
  maxReadBytes?: number;
}
