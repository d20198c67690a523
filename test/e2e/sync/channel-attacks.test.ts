import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFile, link, mkdir, open, readFile, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SandboxBackend } from "../../../src/backend/backend.js";
import { isStreamed, type FileChannel, type PutBody } from "../../../src/backend/file-channel.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { caught } from "../../helpers/caught.js";
import { forwardingBackend, startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// Attacks on sync's streamed uploads (a large host file hashed in one pass, read again while it is sent)
// and on the file channel's `mode`/`mtime` and reused read buffer, through the real dev server and
// bubblewrap. Each one is performed for real; where cheap, a control shows what it would have done.

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const MiB = 1024 * 1024;
/** Over the size sync sends on its own (src/sync/sync-in.ts, DIRECT_BYTES), so the streamed path is taken. */
const BIG = 9 * MiB;
const MARKER = "HOST-SECRET-MARKER-";

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture();
});
afterAll(async () => {
  await fx?.close();
});

/** The backend with its file channel's `put` wrapped: `before` runs once the file was hashed, before its bytes are read again. */
function hooked(inner: SandboxBackend, before: () => Promise<void>): { backend: SandboxBackend; sent: Buffer[] } {
  // Every piece that left for the sandbox, copied (the producer reuses its buffer).
  const sent: Buffer[] = [];
  const backend = forwardingBackend(inner, {
    async fileChannel(options) {
      const real = (await inner.fileChannel?.(options)) as FileChannel;
      return {
        maxBytes: real.maxBytes,
        compress: real.compress,
        async put(s, p, body: PutBody, c, o) {
          if (!isStreamed(body)) return real.put(s, p, body, c, o);
          await before();
          const tap = (write: (piece: Uint8Array) => Promise<void>) => (piece: Uint8Array) => {
            sent.push(Buffer.from(piece));
            return write(piece);
          };
          const tapped = { size: body.size, produce: (write: (piece: Uint8Array) => Promise<void>) => body.produce(tap(write)) };
          return real.put(s, p, tapped, c, o);
        },
        get: (...a) => real.get(...a),
      };
    },
  });
  return { backend, sent };
}

it("a large host file swapped after its hash for a link to a secret, a FIFO or a folder link: no secret byte leaves, nothing appears", async () => {
  const host = await fx.hostDir("swaps");
  const outside = await fx.hostDir("swaps-outside");
  const secret = Buffer.alloc(BIG, MARKER);
  await writeFile(join(outside, "big.bin"), secret);
  await mkdir(join(host, "sub"));
  await fx.start("swaps");
  const target = join(host, "sub", "big.bin");
  const swaps: Record<string, { swap: () => Promise<void>; undo: () => Promise<void> }> = {
    "symlink to a secret": {
      swap: async () => {
        await rm(target);
        await symlink(join(outside, "big.bin"), target);
      },
      undo: () => rm(target),
    },
    fifo: {
      swap: async () => {
        await rm(target);
        execFileSync("mkfifo", [target]);
      },
      undo: () => rm(target),
    },
    // The file's folder becomes a link to a folder holding a secret of the same name and size.
    "folder link": {
      swap: async () => {
        await rename(join(host, "sub"), join(host, "sub-away"));
        await symlink(outside, join(host, "sub"));
      },
      undo: async () => {
        await rm(join(host, "sub"));
        await rename(join(host, "sub-away"), join(host, "sub"));
      },
    },
  };
  for (const [name, { swap, undo }] of Object.entries(swaps)) {
    await writeFile(target, randomBytes(BIG));
    const attack = hooked(fx.backend, swap);
    const err = await caught(syncIn(attack.backend, "swaps", [{ host, guest: "/home/swaps" }]));
    expect(err, name).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
    // Refused on the host before a byte was read: the host never follows a link or opens a FIFO.
    expect(attack.sent.length, name).toBe(0);
    expect(await fx.namesOncePartsGone("swaps", "/home/swaps/sub"), name).toBe("");
    expect(await fx.sh("swaps", `grep -rl ${MARKER} /home /tmp || echo clean`), name).toBe("clean");
    await undo();
  }
  // Control: a plain open (no O_NOFOLLOW) follows the link: the secret was one open away.
  await swaps["symlink to a secret"]?.swap();
  expect((await readFile(target)).subarray(0, MARKER.length).toString()).toBe(MARKER);
  await rm(target);
  // Control: untouched, the same upload goes through.
  const data = randomBytes(BIG);
  await writeFile(target, data);
  await syncIn(hooked(fx.backend, async () => {}).backend, "swaps", [{ host, guest: "/home/swaps" }]);
  expect(await fx.sh("swaps", "sha256sum < /home/swaps/sub/big.bin")).toBe(`${sha(data)}  -`);
});

it("a hard link, a same-size rewrite or a growing file after the hash: only the hashed bytes can appear, never a part file", async () => {
  const host = await fx.hostDir("edits");
  const outside = await fx.hostDir("edits-outside");
  await fx.start("edits");
  const target = join(host, "big.bin");
  const other = Buffer.alloc(BIG, MARKER);
  await writeFile(join(outside, "other.bin"), other);
  // Each change keeps the path a regular file inside the folder: what sync may send by design (it sends
  // the folder's regular files), so the question is only whether unverified bytes can land in the sandbox.
  const changes: Record<string, () => Promise<void>> = {
    // A hard link (made by a host process: the sandbox cannot link host files) renamed over the file.
    "hard link renamed in": async () => {
      await link(join(outside, "other.bin"), join(host, ".tmp"));
      await rename(join(host, ".tmp"), target);
    },
    // The same inode rewritten in place, size unchanged.
    "same-size rewrite": async () => {
      const fh = await open(target, "r+");
      await fh.write(other, 0, other.length, 0);
      await fh.close();
    },
  };
  for (const [name, change] of Object.entries(changes)) {
    await writeFile(target, randomBytes(BIG));
    const attack = hooked(fx.backend, change);
    const err = await caught(syncIn(attack.backend, "edits", [{ host, guest: "/home/edits" }]));
    // The changed bytes did go out (the host holds no copy to send instead)...
    expect(
      attack.sent.some((piece) => piece.includes(MARKER)),
      name,
    ).toBe(true);
    // ...and the sandbox's check refused them: no file, no part file, no copy anywhere it keeps files.
    expect(err, name).toMatchObject({ code: ErrorCodes.SYNC_FAILED, hint: expect.stringMatching(/changed while it was being sent/) });
    expect(await fx.namesOncePartsGone("edits", "/home/edits"), name).toBe("");
    expect(await fx.sh("edits", `grep -rl ${MARKER} /home /tmp || echo clean`), name).toBe("clean");
    await rm(target);
  }
  // Appended to after the hash: only the first `size` bytes are read again, which are the hashed ones, so the
  // file lands exactly as hashed (the rest goes with the next sync).
  const hashed = randomBytes(BIG);
  await writeFile(target, hashed);
  await syncIn(hooked(fx.backend, () => appendFile(target, other)).backend, "edits", [{ host, guest: "/home/edits" }]);
  expect(await fx.sh("edits", "sha256sum < /home/edits/big.bin; ls -A /home/edits")).toBe(`${sha(hashed)}  -\nbig.bin`);
  expect((await readFile(target)).length).toBe(2 * BIG);
});

/** A raw PUT of `body` to `path` with extra query text (fetch: the body is in memory, so no lying sizes here). */
async function putRaw(sandbox: string, path: string, extra: string, text: string, gzip = false): Promise<{ status: number; text: string }> {
  const data = Buffer.from(text);
  const body = gzip ? gzipSync(data) : data;
  const query = `sandbox=${sandbox}&path=${encodeURIComponent(path)}&sha256=${sha(data)}${gzip ? `&encoding=gzip&size=${data.length}` : ""}&${extra}`;
  const res = await fetch(`${fx.url}/_dev/sync/file?${query}`, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body });
  return { status: res.status, text: await res.text() };
}

it("mode and mtime: repeated, set-id, sticky and odd values never make a set-id file; a link or folder at the path is not stamped", async () => {
  await fx.start("stamps");
  await fx.sh("stamps", "mkdir -m 700 /tmp/dir && echo victim > /tmp/victim && chmod 600 /tmp/victim && touch -m -d @1000 /tmp/victim");
  for (const gzip of [false, true]) {
    const w = gzip ? "gz" : "raw";
    // URLSearchParams.get takes the first of repeated parameters: the one that is checked is the one used.
    expect((await putRaw("stamps", `/tmp/${w}-rep1`, "mode=600&mode=4755", "rep1", gzip)).status).toBe(204);
    expect((await putRaw("stamps", `/tmp/${w}-rep2`, "mode=4755&mode=600", "rep2", gzip)).status).toBe(400);
    expect((await putRaw("stamps", `/tmp/${w}-rep3`, "mtime=5&mtime=-5", "rep3", gzip)).status).toBe(204);
    for (const bad of ["mode=7777", "mode=2777", "mode=1777", "mode=0755", "mode=%2B755", "mode=u%2Bs", "mode=", "mode=7%0A", "mode=%D9%A7"]) {
      expect((await putRaw("stamps", `/tmp/${w}-bad`, bad, "bad", gzip)).status, bad).toBe(400);
    }
    for (const bad of [
      "mtime=",
      "mtime=--5",
      "mtime=%2B5",
      "mtime=-",
      "mtime=1e3",
      "mtime=0x10",
      "mtime=Infinity",
      "mtime=NaN",
      "mtime=1.",
      "mtime=.5",
      "mtime=1%0A",
      "mtime=1000000000000",
    ]) {
      expect((await putRaw("stamps", `/tmp/${w}-bad`, bad, "bad", gzip)).status, bad).toBe(400);
    }
    // The extremes the route takes are set as given.
    expect((await putRaw("stamps", `/tmp/${w}-zero`, "mode=0&mtime=0", "zero", gzip)).status).toBe(204);
    expect((await putRaw("stamps", `/tmp/${w}-far`, "mode=777&mtime=999999999999.5", "far", gzip)).status).toBe(204);
    // A link at the path is replaced (rename), its target keeps its mode and mtime; a folder there is refused, unchanged.
    await fx.sh("stamps", `ln -sfn /tmp/victim /tmp/${w}-link`);
    expect((await putRaw("stamps", `/tmp/${w}-link`, "mode=777&mtime=2000", "over the link", gzip)).status).toBe(204);
    expect((await putRaw("stamps", "/tmp/dir", "mode=777&mtime=2000", "over the folder", gzip)).status).toBe(422);
    const stats = await fx.sh("stamps", `cd /tmp && stat -c '%a %Y %F' ${w}-rep1 ${w}-rep3 ${w}-zero ${w}-far ${w}-link victim dir`);
    expect(stats.split("\n").map((line) => line.replace(/^(\d+) \d{10} /, "$1 now "))).toEqual([
      "600 now regular file",
      "644 5 regular file",
      "0 0 regular file",
      "777 999999999999 regular file",
      "777 2000 regular file",
      "600 1000 regular file",
      "700 now directory",
    ]);
    expect(await fx.sh("stamps", `cat /tmp/${w}-link /tmp/victim`)).toBe("over the linkvictim");
  }
  // Nothing refused was written, no part file was left, nothing written is set-id or sticky (only /tmp itself).
  expect(await fx.sh("stamps", "ls -A /tmp | grep -c -e -bad -e -rep2 -e msbv-part || true")).toBe("0");
  expect(await fx.sh("stamps", "find /tmp -perm /7000 ! -path /tmp")).toBe("");
  // Control: the search does see a sticky file when there is one. (Set-id bits the sandbox cannot set at all, the
  // supervisor included: its seccomp filter, docs/security.md "Set-id bits: a seccomp filter".)
  expect(await fx.sh("stamps", "chmod 1755 /tmp/raw-zero && find /tmp -perm /7000 ! -path /tmp")).toBe("/tmp/raw-zero");
  expect(await fx.sh("stamps", "chmod 4755 /tmp/raw-zero 2>&1 || true")).toMatch(/Operation not permitted/);
});

it("downloads at once of different files, and of a file rewritten while read: every byte is one the file held at its offset", async () => {
  await fx.start("reads");
  const channel = (await fx.backend.fileChannel()) as FileChannel;
  const get = async (path: string) => {
    const pieces: Buffer[] = [];
    await channel.get("reads", path, 64 * MiB, (piece) => void pieces.push(Buffer.from(piece)));
    return Buffer.concat(pieces);
  };
  await fx.sh("reads", "for f in g1 g2 g3 old new; do head -c 12582917 /dev/urandom > /tmp/$f; done; cp /tmp/old /tmp/moving");
  const sums = (await fx.sh("reads", "cd /tmp && sha256sum g1 g2 g3")).split("\n").map((line) => line.slice(0, 64));
  // Three reads through the same supervisor at once, each with its own reused buffer.
  const got = await Promise.all(["/tmp/g1", "/tmp/g2", "/tmp/g3"].map(get));
  expect(got.map(sha)).toEqual(sums);
  const [oldBytes, newBytes] = await Promise.all([get("/tmp/old"), get("/tmp/new")]);
  // Rewritten in place, over and over, while it is read: a piece may mix the two versions, but a byte read
  // into the buffer for another offset (or another file) would match neither (random data: 2 in 256 a byte).
  const [moving] = await Promise.all([
    get("/tmp/moving"),
    fx.sh(
      "reads",
      "for i in 1 2 3 4 5 6 7 8; do dd if=/tmp/new of=/tmp/moving conv=notrunc bs=1M status=none; dd if=/tmp/old of=/tmp/moving conv=notrunc bs=1M status=none; done",
    ),
  ]);
  expect(moving.length).toBe(oldBytes?.length);
  let foreign = 0;
  for (let i = 0; i < moving.length; i++) if (moving[i] !== oldBytes?.[i] && moving[i] !== newBytes?.[i]) foreign++;
  expect(foreign).toBe(0);
  // Control: the same check does catch bytes of another offset (one piece shifted by a page).
  const shifted = Buffer.from(moving);
  shifted.copy(shifted, MiB, MiB + 4096, 2 * MiB + 4096);
  let caughtForeign = 0;
  for (let i = MiB; i < 2 * MiB; i++) if (shifted[i] !== oldBytes?.[i] && shifted[i] !== newBytes?.[i]) caughtForeign++;
  expect(caughtForeign).toBeGreaterThan(MiB / 2);
});

it("a link the sandbox plants at the scratch folder (before the listing, or between syncIn and syncBack) redirects it only inside the sandbox", async () => {
  const host = await fx.hostDir("scratch");
  const outside = await fx.hostDir("scratch-outside");
  const data = randomBytes(BIG);
  await writeFile(join(host, "big.bin"), data);
  await writeFile(join(host, "small.txt"), "small\n");
  await fx.start("scratch");
  await fx.sh("scratch", "mkdir /home/decoy");
  /** The sandbox (it may watch /tmp) puts a link where the listing is about to make the scratch folder. */
  const planting = (to: string): SandboxBackend => ({
    capabilities: () => fx.backend.capabilities(),
    start: (...a) => fx.backend.start(...a),
    stop: (...a) => fx.backend.stop(...a),
    runCode: (...a) => fx.backend.runCode(...a),
    metrics: (...a) => fx.backend.metrics(...a),
    fileChannel: (o) => fx.backend.fileChannel(o),
    async runCommand(name, command, args, timeout, options) {
      const out = args[4];
      if (args[1]?.includes("mkdir -p -m 700") && out?.endsWith("/list")) {
        await fx.sh(name, `ln -s ${to} ${out.slice(0, -"/list".length)}`);
      }
      return fx.backend.runCommand(name, command, args, timeout, options);
    },
  });
  // At a host folder's path: inside the sandbox that path is not the host folder (it does not exist there),
  // so the listing fails and the host folder stays empty.
  const err = await caught(syncIn(planting(outside), "scratch", [{ host, guest: "/home/scratch" }]));
  expect(err).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(await readdir(outside)).toEqual([]);
  // At a folder of its own: the scratch files go there (the sandbox could write them anyway); the upload still
  // lands verified, and nothing on the host but the sandbox's own state changed.
  const session = await syncIn(planting("/home/decoy"), "scratch", [{ host, guest: "/home/scratch" }]);
  expect(await fx.sh("scratch", "sha256sum < /home/scratch/big.bin; cat /home/scratch/small.txt; ls /home/decoy")).toBe(
    `${sha(data)}  -\nsmall\nlist`,
  );
  expect(await readdir(outside)).toEqual([]);
  expect((await readdir(host)).sort()).toEqual(["big.bin", "small.txt"]);
  // syncBack reuses the session's scratch path, which the sandbox has seen by now: no guess needed to swap it.
  await fx.sh("scratch", `echo changed > /home/scratch/small.txt; rm -rf ${session.scratch}; ln -s ${outside} ${session.scratch}`);
  expect(await caught(syncBack(fx.backend, session))).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(await readdir(outside)).toEqual([]);
  expect(await readFile(join(host, "small.txt"), "utf8")).toBe("small\n");
  await fx.sh("scratch", `rm ${session.scratch}; ln -s /home/decoy ${session.scratch}`);
  await syncBack(fx.backend, session);
  expect(await readFile(join(host, "small.txt"), "utf8")).toBe("changed\n");
  expect(await readdir(outside)).toEqual([]);
  expect((await readdir(host)).sort()).toEqual(["big.bin", "small.txt"]);
  // Control: opened by its host path, the sandbox's /home would follow a link it planted to the host folder.
  await fx.sh("scratch", `ln -s ${outside} /home/to-outside`);
  await writeFile(join(fx.dir, "server", ".menv", "scratch", "rw", "home", "to-outside", "list"), "through the link");
  expect(await readdir(outside)).toEqual(["list"]);
});

it("a large host file dated before 1970 goes in with its mtime (the route, both writers and node's futimes take it)", async () => {
  const host = await fx.hostDir("old");
  const data = randomBytes(BIG);
  await writeFile(join(host, "big.bin"), data);
  // node's utimes turns a negative time into "now": touch sets it as given.
  execFileSync("touch", ["-m", "-d", "@-100", join(host, "big.bin")]);
  await fx.start("old");
  await syncIn(fx.backend, "old", [{ host, guest: "/home/old" }]);
  expect(await fx.sh("old", "sha256sum < /home/old/big.bin; stat -c %Y /home/old/big.bin")).toBe(`${sha(data)}  -\n-100`);
  // The gzip writer too, and a fraction: set as given, not as now.
  expect((await putRaw("old", "/tmp/gz-old", "mtime=-100.5", "old", true)).status).toBe(204);
  expect(await fx.sh("old", "stat -c %.1Y /tmp/gz-old")).toBe("-100.5");
});
