import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { open, readdir, readlink, realpath, rename, rmdir, stat, unlink, type FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { ErrorCodes } from "../errors/codes.js";
import { WorkspaceError } from "../errors/errors.js";
import { digestHandle } from "./digest.js";
import { PieceWriter, writePieces } from "./write-pieces.js";
import { splitRelPath } from "./rel-path.js";
import { SafeDir, defaultStrategy, errnoCode, escapeError, kindOf, toWorkspaceError } from "./safe-dir.js";
import type { FileDigest, ListOptions, RemoveOptions, WalkStrategy, WorkspaceEntry, WorkspaceOptions, WriteOptions } from "./types.js";

/** S_ISUID | S_ISGID: stripped from every file `write` leaves. */
const SET_ID_BITS = 0o6000;

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

// Guest code may change the tree while we walk. An entry that vanished, or that turned into a symlink or
// special file between readdir and open, is skipped: at that instant it is not a regular file/folder.
function isGone(e: unknown): boolean {
  const code = errnoCode(e);
  return code === "ENOENT" || code === ErrorCodes.WORKSPACE_NOT_FOUND || code === ErrorCodes.WORKSPACE_ESCAPE;
}

function entryOf(name: string, rel: string, st: Stats, linkTarget?: string): WorkspaceEntry {
  const type = st.isSymbolicLink() ? "symlink" : st.isDirectory() ? "directory" : st.isFile() ? "file" : "other";
  const e: WorkspaceEntry = { name, path: rel, type, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777 };
  if (linkTarget !== undefined) e.linkTarget = linkTarget;
  return e;
}

/**
 * Host-side access to a mounted workspace folder that never leaves it: every path is resolved component
 * by component from the root, no symlink is ever followed (they are listed as `symlink` and refused by
 * read/write), and FIFOs, sockets and devices are never opened (MSBV_WORKSPACE_ESCAPE). Writes are atomic
 * (temp file in the same folder + rename), so a symlink planted at the target is replaced, not written
 * through. Guest code can change the folder at any time; these guarantees hold under such races.
 */
export class Workspace {
  /** The root as given (made absolute). Operations use its canonical form. */
  readonly root: string;
  private readonly strategy: WalkStrategy;
  private readonly maxReadBytes: number;
  private canonical: Promise<string> | undefined;

  constructor(root: string, options: WorkspaceOptions = {}) {
    this.root = path.resolve(root);
    this.strategy = options.strategy ?? defaultStrategy();
    this.maxReadBytes = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
  }

  /** Opens a workspace, checking that the root exists and is a folder (symlinks in the root path are resolved once). */
  static async open(root: string, options: WorkspaceOptions = {}): Promise<Workspace> {
    const ws = new Workspace(root, options);
    const real = await ws.realRoot();
    const st = await stat(real);
    if (!st.isDirectory()) {
      throw new WorkspaceError(ErrorCodes.WORKSPACE_NOT_FOUND, `workspace root "${ws.root}" is not a folder`, { hint: "pass the mounted folder" });
    }
    return ws;
  }

  private realRoot(): Promise<string> {
    this.canonical ??= realpath(this.root).catch((e: unknown) => {
      this.canonical = undefined;
      throw new WorkspaceError(ErrorCodes.WORKSPACE_NOT_FOUND, `workspace root "${this.root}" does not exist`, {
        cause: e,
        hint: "create the folder or mount it first",
      });
    });
    return this.canonical;
  }

  /** Opens the folder made of `components` (all of them), optionally creating missing ones. */
  private async openDirs(components: readonly string[], create = false): Promise<SafeDir> {
    let dir = await SafeDir.openRoot(await this.realRoot(), this.strategy);
    try {
      for (const c of components) {
        const next = await dir.openDir(c, create);
        await dir.close();
        dir = next;
      }
      return dir;
    } catch (e) {
      await dir.close();
      throw e;
    }
  }

  /** Runs `fn` with the parent folder of `rel` and the final name. */
  private async withParent<T>(rel: string, action: string, fn: (dir: SafeDir, name: string) => Promise<T>, create = false): Promise<T> {
    const parts = splitRelPath(rel);
    const name = parts.pop();
    if (name === undefined) throw escapeError(rel, `cannot ${action} the workspace root itself`);
    try {
      const dir = await this.openDirs(parts, create);
      try {
        return await fn(dir, name);
      } finally {
        await dir.close();
      }
    } catch (e) {
      throw toWorkspaceError(e, rel, action);
    }
  }

  /** Lists a folder (default the root), sorted by path. Symlinks are listed, never descended into. */
  async list(dir = ".", options: ListOptions = {}): Promise<WorkspaceEntry[]> {
    const parts = splitRelPath(dir);
    const out: WorkspaceEntry[] = [];
    try {
      const d = await this.openDirs(parts);
      try {
        await this.walk(d, options.recursive === true, async (e) => void out.push(e));
      } finally {
        await d.close();
      }
    } catch (e) {
      throw toWorkspaceError(e, dir, "list");
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async walk(dir: SafeDir, recursive: boolean, visit: (e: WorkspaceEntry, dir: SafeDir) => Promise<void>): Promise<void> {
    for (const name of await readdir(dir.selfPath())) {
      const st = await dir.lstatChild(name);
      if (!st) continue; // removed since readdir
      const link = st.isSymbolicLink() ? await readlink(dir.child(name)).catch(() => undefined) : undefined;
      const entry = entryOf(name, dir.childRel(name), st, link);
      await visit(entry, dir);
      if (recursive && entry.type === "directory") {
        const sub = await dir.openDir(name).catch((e: unknown) => (isGone(e) ? undefined : Promise.reject(e)));
        if (!sub) continue;
        try {
          await this.walk(sub, true, visit);
        } finally {
          await sub.close();
        }
      }
    }
  }

  /** The entry for one path (a symlink is described, not followed). */
  async stat(rel: string): Promise<WorkspaceEntry> {
    return this.withParent(rel, "stat", async (dir, name) => {
      const st = await dir.lstatChild(name);
      if (!st) throw toWorkspaceError(Object.assign(new Error("ENOENT"), { code: "ENOENT" }), rel, "stat");
      const link = st.isSymbolicLink() ? await readlink(dir.child(name)) : undefined;
      return entryOf(name, dir.childRel(name), st, link);
    });
  }

  /** Reads a regular file. Symlinks, special files and anything outside the root are refused. */
  async read(rel: string): Promise<Buffer> {
    return this.withParent(rel, "read", async (dir, name) => {
      const fh = await dir.openFile(name);
      try {
        return await readBounded(fh, dir.childRel(name), this.maxReadBytes);
      } finally {
        await fh.close();
      }
    });
  }

  /**
   * Reads a regular file piece by piece through a few reused buffers, at most `limit` bytes, for files
   * too large to hold (sync's direct uploads). `each` gets every piece, in order, and its promise must
   * settle once it is done with the piece: that buffer is then read into again. The next piece is read
   * while earlier ones are still with `each` (a socket sending them), so reading and sending overlap.
   * Returns the bytes read (fewer than `limit` when the file is shorter). An error from `each` is
   * rethrown as it is and stops the read.
   */
  async readEach(rel: string, limit: number, each: (piece: Buffer) => Promise<void>): Promise<number> {
    let consumer: { error: unknown } | undefined;
    const total = await this.withParent(rel, "read", async (dir, name) => {
      const fh = await dir.openFile(name);
      const inUse: Array<Promise<void> | undefined> = [];
      try {
        const ring = Array.from({ length: PIECES_IN_FLIGHT }, () => Buffer.allocUnsafe(Math.max(1, Math.min(limit, PIECE_BYTES))));
        let read = 0;
        for (let slot = 0; read < limit && !consumer; slot = (slot + 1) % ring.length) {
          await inUse[slot];
          const buf = ring[slot] as Buffer;
          if (consumer) break;
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, limit - read), null);
          if (bytesRead === 0) break;
          read += bytesRead;
          inUse[slot] = each(buf.subarray(0, bytesRead)).catch((error: unknown) => {
            consumer ??= { error };
          });
        }
        return read;
      } finally {
        // Every piece handed out is settled before the file is closed and the buffers can go.
        await Promise.all(inUse);
        await fh.close();
      }
    });
    if (consumer) throw consumer.error;
    return total;
  }

  /** SHA-256, size, mode and mtime of one regular file, read in pieces (never held whole). */
  async digest(rel: string): Promise<FileDigest> {
    return this.withParent(rel, "read", async (dir, name) => {
      const fh = await dir.openFile(name);
      try {
        return await digestHandle(fh);
      } finally {
        await fh.close();
      }
    });
  }

  /** Reads a regular file as UTF-8 text. */
  async readText(rel: string): Promise<string> {
    return (await this.read(rel)).toString("utf8");
  }

  /**
   * Writes a file atomically: a new temp file in the same folder (O_EXCL|O_NOFOLLOW), then rename over
   * the target. A symlink or special file at the target is refused; one swapped in concurrently is
   * replaced by the rename, never written through. `data` may come in pieces (written in order, many per
   * writev), so a large file received in chunks is not joined into one more buffer first.
   */
  async write(rel: string, data: string | Uint8Array | readonly Uint8Array[], options: WriteOptions = {}): Promise<void> {
    const pieces = typeof data === "string" ? [Buffer.from(data, "utf8")] : data instanceof Uint8Array ? [data] : data;
    await this.writeAtomic(rel, options, (fh) => writePieces(fh, pieces));
  }

  /**
   * {@link write}, with the bytes written while they still arrive: `produce` hands each piece to `sink`
   * (queued and written in order without waiting; `sink` throws once a write failed) and resolves when
   * the bytes are complete and checked. Only then, and once every piece is on disk, is the file renamed
   * into place; if `produce` rejects (the bytes failed their check) or a write fails, the temp file is
   * removed, the target is left as it was, and that error is thrown. Nothing is ever visible at `rel`
   * before `produce` accepted the bytes.
   */
  async writeStreamed(rel: string, produce: (sink: (piece: Uint8Array) => void) => Promise<void>, options: WriteOptions = {}): Promise<void> {
    await this.writeAtomic(rel, options, async (fh) => {
      const writer = new PieceWriter(fh);
      const produced = await produce((piece) => writer.push(piece)).then(
        () => undefined,
        (err: unknown) => ({ err }),
      );
      // Every write settles before the temp file is closed (and removed, on failure). A failed write is
      // the cause of whatever `produce` then saw (its sink threw), so it is the error reported.
      await writer.flush();
      if (produced) throw produced.err;
    });
  }

  /** The one owner of write's safety: temp file, set-id bits stripped, data synced, rename, temp removed on failure. */
  private async writeAtomic(rel: string, options: WriteOptions, fill: (fh: FileHandle) => Promise<void>): Promise<void> {
    await this.withParent(
      rel,
      "write",
      async (dir, name) => {
        const st = await dir.lstatChild(name);
        if (st && !st.isFile()) {
          if (st.isDirectory()) {
            throw new WorkspaceError(ErrorCodes.WORKSPACE_NOT_FOUND, `cannot write "${rel}": it is a folder`, { hint: "write to a file path" });
          }
          throw escapeError(rel, `it is ${kindOf(st)}; writing would go through it`);
        }
        // Never set-id: a sandbox may have set 06777 on the file it left (or a caller may ask for it), and
        // carrying that over would hand a host user a setuid binary (docs/security.md, "Set-id bits").
        const wanted = options.mode ?? (st ? st.mode & 0o7777 : undefined);
        const mode = wanted === undefined ? undefined : wanted & ~SET_ID_BITS;
        const tmp = `.msbv-${randomBytes(6).toString("hex")}.tmp`;
        const fh = await open(dir.child(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
        try {
          try {
            await fill(fh);
            if (mode !== undefined) await fh.chmod(mode);
            await fh.datasync();
          } finally {
            await fh.close();
          }
          await rename(dir.child(tmp), dir.child(name));
        } catch (e) {
          await unlink(dir.child(tmp)).catch(() => undefined);
          throw e;
        }
      },
      options.createParents === true,
    );
  }

  /** Creates a folder and any missing parents (never through a symlink). */
  async mkdir(rel: string): Promise<void> {
    const parts = splitRelPath(rel);
    try {
      await (await this.openDirs(parts, true)).close();
    } catch (e) {
      throw toWorkspaceError(e, rel, "create");
    }
  }

  /** Removes a file, symlink (the link itself) or folder (`recursive` for non-empty ones). */
  async remove(rel: string, options: RemoveOptions = {}): Promise<void> {
    await this.withParent(rel, "remove", async (dir, name) => {
      const st = await dir.lstatChild(name);
      if (!st) throw toWorkspaceError(Object.assign(new Error("ENOENT"), { code: "ENOENT" }), rel, "remove");
      if (!st.isDirectory()) return unlink(dir.child(name));
      if (options.recursive === true) await this.removeContents(dir, name);
      await rmdir(dir.child(name));
    });
  }

  private async removeContents(parent: SafeDir, name: string): Promise<void> {
    const d = await parent.openDir(name);
    try {
      for (const child of await readdir(d.selfPath())) {
        const st = await d.lstatChild(child);
        if (!st) continue;
        if (st.isDirectory()) {
          await this.removeContents(d, child);
          await rmdir(d.child(child));
        } else {
          await unlink(d.child(child));
        }
      }
    } finally {
      await d.close();
    }
  }

  /**
   * SHA-256, size, mode and mtime of every regular file, keyed by relative path (sorted). Symlinks and
   * special files are not included: they are never read.
   */
  async snapshot(): Promise<Map<string, FileDigest>> {
    const found: [string, FileDigest][] = [];
    try {
      const root = await this.openDirs([]);
      try {
        await this.walk(root, true, async (e, dir) => {
          if (e.type !== "file") return;
          const fh = await dir.openFile(e.name).catch((err: unknown) => (isGone(err) ? undefined : Promise.reject(err)));
          if (!fh) return;
          try {
            found.push([e.path, await digestHandle(fh)]);
          } finally {
            await fh.close();
          }
        });
      } finally {
        await root.close();
      }
    } catch (e) {
      throw toWorkspaceError(e, ".", "snapshot");
    }
    found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new Map(found);
  }
}

const DEFAULT_MAX_READ_BYTES = 256 * 1024 * 1024;
/** Piece size of {@link Workspace.readEach}: large enough that a 64 MiB file is 64 reads. */
const PIECE_BYTES = 1024 * 1024;
/** Pieces {@link Workspace.readEach} may have handed out and not yet got back. */
const PIECES_IN_FLIGHT = 4;

/** The whole file, refused before reading when it claims more than `max`, or once it grows past it. */
async function readBounded(fh: FileHandle, rel: string, max: number): Promise<Buffer> {
  const tooLarge = (size: string) =>
    new WorkspaceError(ErrorCodes.WORKSPACE_TOO_LARGE, `"${rel}" is ${size}, over the read limit of ${max} bytes`, {
      hint: "stream the file yourself, or raise maxReadBytes in Workspace.open(root, { maxReadBytes })",
      details: { path: rel, maxReadBytes: max },
    });
  const { size } = await fh.stat();
  if (size > max) throw tooLarge(`${size} bytes`);
  // Read into one buffer of the stat size (+1 to see growth): a large file is not gathered in pieces
  // and copied once more (fresh memory is what costs, more than the copy).
  const first = Buffer.allocUnsafe(Math.min(size, max) + 1);
  let total = 0;
  while (total < first.length) {
    const { bytesRead } = await fh.read(first, total, Math.min(first.length - total, 8 * 1024 * 1024), null);
    if (bytesRead === 0) return first.subarray(0, total);
    total += bytesRead;
  }
  if (total > max) throw tooLarge("growing");
  const chunks: Buffer[] = [first];
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, max - total + 1));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    total += bytesRead;
    if (total > max) throw tooLarge("growing");
    chunks.push(buf.subarray(0, bytesRead));
  }
}
