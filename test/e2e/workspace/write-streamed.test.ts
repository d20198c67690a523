import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { Workspace, type WalkStrategy } from "../../../src/workspace/index.js";
import { caught } from "../../helpers/caught.js";

// Workspace.write of many pieces (writev, src/workspace/write-pieces.ts) and Workspace.writeStreamed
// (the bytes written while they arrive, as sync-back does with a file fetched as itself), on real files:
// exact bytes, no set-id bits, nothing visible at the path before the producer accepted the bytes, and
// nothing left behind when it refuses them.

const tempFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith(".msbv-"));

describe.each<WalkStrategy>(["procfd", "path"])("Workspace.write / writeStreamed (%s)", (strategy) => {
  let root: string;
  let ws: Workspace;
  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), "msbv-wstream-")));
    ws = await Workspace.open(root, { strategy });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("write: more pieces than one writev takes land byte for byte, without set-id bits", async () => {
    const backing = randomBytes(4096);
    // Empty pieces, views into a shared buffer at odd offsets, and plain Buffers.
    const pieces: Uint8Array[] = Array.from({ length: 2500 }, (_, i) =>
      i % 7 === 0
        ? new Uint8Array(0)
        : i % 3 === 0
          ? new Uint8Array(backing.buffer, backing.byteOffset + (i % 101), 1 + (i % 37))
          : randomBytes(1 + (i % 53)),
    );
    await ws.write("sub/many.bin", pieces, { createParents: true, mode: 0o6755 });
    expect((await readFile(path.join(root, "sub", "many.bin"))).equals(Buffer.concat(pieces))).toBe(true);
    expect((await stat(path.join(root, "sub", "many.bin"))).mode & 0o7777).toBe(0o755);
    expect(await tempFiles(path.join(root, "sub"))).toEqual([]);
  });

  it("writeStreamed: the file appears only once the producer resolved, with exactly its bytes", async () => {
    await writeFile(path.join(root, "f.bin"), "old\n");
    const sent: Buffer[] = [];
    let seenMeanwhile = "";
    await ws.writeStreamed(
      "f.bin",
      async (sink) => {
        for (let i = 0; i < 40; i++) {
          const piece = randomBytes(64 * 1024 + i);
          sent.push(piece);
          sink(piece);
          if (i % 8 === 0) await new Promise((r) => setTimeout(r, 1));
        }
        // Still being checked: the old file is what the path shows, the new bytes are in a temp file.
        seenMeanwhile = await readFile(path.join(root, "f.bin"), "utf8");
        expect(await tempFiles(root)).toHaveLength(1);
      },
      { mode: 0o4755 },
    );
    expect(seenMeanwhile).toBe("old\n");
    expect((await readFile(path.join(root, "f.bin"))).equals(Buffer.concat(sent))).toBe(true);
    expect((await stat(path.join(root, "f.bin"))).mode & 0o7777).toBe(0o755);
    expect(await tempFiles(root)).toEqual([]);
  });

  it("writeStreamed: bytes the producer refuses never reach the path, and the temp file is removed", async () => {
    await writeFile(path.join(root, "kept.txt"), "host version\n");
    const refusal = new Error("the bytes do not match the SHA-256");
    const err = await ws
      .writeStreamed("kept.txt", async (sink) => {
        sink(Buffer.alloc(3 * 1024 * 1024, 1));
        await new Promise((r) => setTimeout(r, 5));
        sink(Buffer.from("tail"));
        throw refusal;
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBe(refusal);
    expect(await readFile(path.join(root, "kept.txt"), "utf8")).toBe("host version\n");
    expect(await tempFiles(root)).toEqual([]);
    // A new path stays absent.
    await ws.writeStreamed("new.txt", async () => Promise.reject(refusal)).catch(() => undefined);
    expect(await readdir(root)).toEqual(["kept.txt"]);
  });

  it("writeStreamed: a symlink at the target is refused before anything is fetched, and its target is untouched", async () => {
    const outside = await realpath(await mkdtemp(path.join(tmpdir(), "msbv-wstream-out-")));
    try {
      await writeFile(path.join(outside, "secret"), "outside\n");
      await symlink(path.join(outside, "secret"), path.join(root, "link"));
      let produced = false;
      const err = await caught(
        ws.writeStreamed("link", async (sink) => {
          produced = true;
          sink(Buffer.from("through the link\n"));
        }),
      );
      expect(err.code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
      expect(produced).toBe(false);
      expect(await readFile(path.join(outside, "secret"), "utf8")).toBe("outside\n");
      expect(await tempFiles(root)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
