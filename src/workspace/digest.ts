import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import type { FileDigest } from "./types.js";

/** SHA-256 and metadata of an already opened regular file, read in chunks (no whole-file buffer). */
export async function digestHandle(fh: FileHandle): Promise<FileDigest> {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(256 * 1024);
  let size = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    size += bytesRead;
  }
  const st = await fh.stat();
  return { size, sha256: hash.digest("hex"), mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
}
