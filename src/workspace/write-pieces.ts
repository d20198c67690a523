import type { FileHandle } from "node:fs/promises";

/** Linux's IOV_MAX: the most pieces one writev(2) takes. */
const IOV_MAX = 1024;

/**
 * Writes `pieces` in order at the file's position, up to IOV_MAX of them per writev(2): a 64 MiB file
 * received as 1024 pieces of 64 KiB costs one thread-pool call instead of 1024 (`writeFile` of an array
 * writes piece by piece). A short write (libuv reports what went through before an error such as a full
 * disk, not the error) is continued from where it stopped, so the error surfaces on the next call.
 */
export async function writePieces(fh: Pick<FileHandle, "writev">, pieces: readonly Uint8Array[]): Promise<void> {
  let rest = pieces.filter((p) => p.byteLength > 0);
  while (rest.length > 0) {
    const batch = rest.slice(0, IOV_MAX);
    const { bytesWritten } = await fh.writev(batch);
    if (bytesWritten <= 0) throw Object.assign(new Error("write(2) made no progress"), { code: "EIO" });
    let done = 0;
    let left = bytesWritten;
    while (done < batch.length && left >= (batch[done] as Uint8Array).byteLength) left -= (batch[done++] as Uint8Array).byteLength;
    rest = rest.slice(done);
    if (left > 0) rest[0] = (rest[0] as Uint8Array).subarray(left);
  }
}

const SYNC_EVERY_BYTES = 8 * 1024 * 1024;

/**
 * Writes pieces to a file as they are handed over, without the giver waiting: pieces handed over while
 * a write is under way go together in the next writev. A failed write drops what is still queued, makes
 * every later `push` throw that error (so a download feeding it stops early) and `flush` reject with it.
 */
export class PieceWriter {
  readonly #fh: Pick<FileHandle, "writev" | "datasync">;
  #queue: Uint8Array[] = [];
  #running: Promise<void> | undefined;
  #failed: { err: unknown } | undefined;
  #unsynced = 0;

  constructor(fh: Pick<FileHandle, "writev" | "datasync">) {
    this.#fh = fh;
  }

  push(piece: Uint8Array): void {
    if (this.#failed) throw this.#failed.err;
    this.#queue.push(piece);
    this.#running ??= this.#drain();
  }

  /** Resolves once everything pushed is written; rejects with the first write error. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#failed) throw this.#failed.err;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        await writePieces(this.#fh, batch);
        // Start the disk on what is written while the rest still arrives: the caller's final datasync
        // then has only the tail left to wait for.
        this.#unsynced += batch.reduce((n, p) => n + p.byteLength, 0);
        if (this.#unsynced >= SYNC_EVERY_BYTES) {
          this.#unsynced = 0;
          await this.#fh.datasync();
        }
      }
    } catch (err) {
      this.#failed = { err };
      this.#queue = [];
    } finally {
      this.#running = undefined;
    }
  }
}
