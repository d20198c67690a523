import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import * as path from "node:path";

export interface AtomicWriteOptions {
  /** Permission bits of the new file (before the umask); default 0o644. */
  mode?: number;
  /**
   * false: no fsync of the file nor of its folder. Readers still see the old file or the whole new
   * one; a power cut may keep the old one, or (on filesystems that do not order a rename after the
   * data) leave the new name empty. For files rewritten at every use that nothing needs across a
   * crash. Default true.
   */
  durable?: boolean;
}

/**
 * Replaces `target` with `data` so that a reader sees either the old file or the whole new one, never
 * half of it, and a crash or failure leaves no temp file behind.
 *
 * How: a temp file in the same folder (rename is only atomic within one filesystem), created with
 * O_EXCL under an unguessable name so a symlink planted in a shared project folder cannot redirect
 * the write; fsync of the data before the rename and of the folder after it, so the new name survives
 * a power cut. Errors are the raw Node errors; each caller wraps them in its own typed error.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", opts.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      if (opts.durable !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  if (opts.durable !== false) await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable; some filesystems refuse fsync on a folder, and the data is already
  // safe in the renamed file, so a failure here is ignored.
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}
