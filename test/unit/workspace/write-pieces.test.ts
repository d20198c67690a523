import { randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { expect, it } from "vitest";
import { PieceWriter, writePieces } from "../../../src/workspace/write-pieces.js";

// The writev loop behind Workspace.write/writeStreamed (src/workspace/write-pieces.ts) against a fake
// handle that does what the kernel may do: take fewer bytes than offered, or fail.

type Writable = Pick<FileHandle, "writev" | "datasync">;

/** A handle that takes at most `cap` bytes per writev, like a short write(2); `fail` makes call N throw. */
function fakeHandle(cap: number, fail?: { atCall: number; err: Error }) {
  const written: Buffer[] = [];
  const calls: number[] = [];
  let syncs = 0;
  const fh: Writable = {
    async writev(buffers: readonly NodeJS.ArrayBufferView[]) {
      calls.push(buffers.length);
      if (fail && calls.length === fail.atCall) throw fail.err;
      let left = cap;
      for (const b of buffers) {
        if (left === 0) break;
        const bytes = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, left));
        written.push(Buffer.from(bytes));
        left -= bytes.length;
      }
      return { bytesWritten: cap - left, buffers: buffers as NodeJS.ArrayBufferView[] };
    },
    async datasync() {
      syncs++;
    },
  } as Writable;
  return { fh, written: () => Buffer.concat(written), calls, syncs: () => syncs };
}

const pieces = (n: number) => Array.from({ length: n }, (_, i) => randomBytes(i % 5 === 0 ? 0 : 1 + (i % 97)));

it("writes every byte in order, at most 1024 pieces per writev, continuing after short writes", async () => {
  const data = pieces(3000);
  const whole = Buffer.concat(data);
  const roomy = fakeHandle(Number.MAX_SAFE_INTEGER);
  await writePieces(roomy.fh, data);
  expect(roomy.written().equals(whole)).toBe(true);
  // Empty pieces are not sent; the rest go 1024 at a time.
  expect(Math.max(...roomy.calls)).toBe(1024);
  expect(roomy.calls.length).toBe(Math.ceil(data.filter((p) => p.length > 0).length / 1024));

  // Short writes that end inside a piece: the rest of that piece goes next.
  const tight = fakeHandle(1000);
  await writePieces(tight.fh, data);
  expect(tight.written().equals(whole)).toBe(true);
  expect(tight.calls.length).toBe(Math.ceil(whole.length / 1000));
});

it("a write that makes no progress is an error, not an endless loop", async () => {
  const stuck = fakeHandle(0);
  await expect(writePieces(stuck.fh, [Buffer.from("abc")])).rejects.toMatchObject({ code: "EIO" });
  expect(stuck.calls.length).toBe(1);
});

it("PieceWriter batches what arrives during a write, and after a failed write refuses more pieces", async () => {
  const ok = fakeHandle(Number.MAX_SAFE_INTEGER);
  const writer = new PieceWriter(ok.fh);
  const data = pieces(50);
  for (const p of data) writer.push(p);
  await writer.flush();
  expect(ok.written().equals(Buffer.concat(data))).toBe(true);
  // The first piece started a write; everything pushed meanwhile went in one more call.
  expect(ok.calls.length).toBeLessThanOrEqual(2);

  const full = Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
  const failing = fakeHandle(Number.MAX_SAFE_INTEGER, { atCall: 1, err: full });
  const broken = new PieceWriter(failing.fh);
  broken.push(Buffer.from("first"));
  await expect(broken.flush()).rejects.toBe(full);
  expect(() => broken.push(Buffer.from("second"))).toThrow(full);
  expect(failing.calls).toEqual([1]);
});

it("PieceWriter syncs the data written so far every 8 MiB while more arrives", async () => {
  const h = fakeHandle(Number.MAX_SAFE_INTEGER);
  const writer = new PieceWriter(h.fh);
  const mib = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 20; i++) {
    writer.push(mib);
    await writer.flush();
  }
  expect(h.syncs()).toBe(2);
});
