import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SandboxBackend } from "../../../src/backend/backend.js";
import type { WireCommandResult } from "../../../src/backend/wire.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { caught } from "../../helpers/caught.js";
import { forwardingBackend, startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// The legacy route (sandbox.command.run) as a legacy server would see it: the dev server runs with its
// file channel off, so sync finds none and moves bytes through commands, pipelined and gzipped.

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const MiB = 1024 * 1024;

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture({ syncFileChannel: false });
});
afterAll(async () => {
  await fx?.close();
});

/** Records scripts and the most commands in flight at once; `rewrite` may replace a command's result (attacks). */
function watched(inner: SandboxBackend, rewrite?: (script: string, result: WireCommandResult) => WireCommandResult) {
  const scripts: string[] = [];
  let inFlight = 0;
  const stats = { maxInFlight: 0, scripts };
  const backend = forwardingBackend(inner, {
    ...(inner.fileChannel ? { fileChannel: (o) => (inner.fileChannel as NonNullable<SandboxBackend["fileChannel"]>)(o) } : {}),
    async runCommand(name, command, args, timeout, options) {
      scripts.push(args[1] ?? "");
      stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
      try {
        const result = await inner.runCommand(name, command, args, timeout, options);
        return rewrite ? rewrite(args[1] ?? "", result) : result;
      } finally {
        inFlight--;
      }
    },
  });
  return { backend, stats };
}

it("with the channel off, the server advertises none and sync pipelines commands; random bytes travel raw", async () => {
  expect(await fx.backend.fileChannel()).toBeUndefined();
  const host = await fx.hostDir("raw");
  const data = randomBytes(5 * MiB + 123);
  await writeFile(join(host, "r.bin"), data);
  await fx.start("raw");
  const w = watched(fx.backend);
  const session = await syncIn(w.backend, "raw", [{ host, guest: "/home/raw" }]);
  expect(w.stats.maxInFlight).toBeGreaterThan(1);
  expect(w.stats.scripts.some((s) => s.includes("gzip -dc"))).toBe(false); // incompressible: sent as it is
  expect(await fx.sh("raw", "sha256sum < /home/raw/r.bin")).toBe(`${sha(data)}  -`);

  await fx.sh("raw", "head -c 14000000 /dev/urandom > /home/raw/back.bin");
  const guest = (await fx.sh("raw", "sha256sum < /home/raw/back.bin")).slice(0, 64);
  w.stats.maxInFlight = 0;
  await syncBack(w.backend, session);
  expect(w.stats.maxInFlight).toBeGreaterThan(1); // 3 parts: the first alone, then the rest together
  expect(sha(await readFile(join(host, "back.bin")))).toBe(guest);
});

it("compressible data is gzipped both ways and arrives intact", async () => {
  const host = await fx.hostDir("text");
  const text = Buffer.from("a line of very repetitive source text\n".repeat(200_000)); // 7.6 MB
  await writeFile(join(host, "t.txt"), text);
  await fx.start("text");
  const w = watched(fx.backend);
  const session = await syncIn(w.backend, "text", [{ host, guest: "/home/text" }]);
  expect(w.stats.scripts.some((s) => s.includes("gzip -dc"))).toBe(true);
  // Far fewer upload requests than 1 MiB chunks of the raw archive would need.
  expect(w.stats.scripts.filter((s) => s.includes("base64 -d")).length).toBeLessThan(3);
  expect(await fx.sh("text", "sha256sum < /home/text/t.txt")).toBe(`${sha(text)}  -`);

  await fx.sh("text", "for i in $(seq 1 300000); do echo sandbox line; done > /home/text/back.txt");
  w.stats.scripts.length = 0;
  await syncBack(w.backend, session);
  expect(w.stats.scripts.some((s) => s.includes("gzip -1"))).toBe(true);
  expect(await readFile(join(host, "back.txt"), "utf8")).toBe("sandbox line\n".repeat(300_000));
});

it('channel: "command-serial" keeps the earlier route: one request at a time, no gzip', async () => {
  const host = await fx.hostDir("serial");
  const text = Buffer.from("repetitive\n".repeat(400_000)); // 4.4 MB, compressible
  await writeFile(join(host, "t.txt"), text);
  await fx.start("serial");
  const w = watched(fx.backend);
  const session = await syncIn(w.backend, "serial", [{ host, guest: "/home/serial" }], { channel: "command-serial" });
  await fx.sh("serial", "head -c 7000000 /dev/urandom > /home/serial/back.bin");
  await syncBack(w.backend, session, { channel: "command-serial" });
  expect(w.stats.maxInFlight).toBe(1);
  expect(w.stats.scripts.some((s) => s.includes("gzip"))).toBe(false);
  expect(w.stats.scripts.filter((s) => s.includes("base64 -d")).length).toBeGreaterThanOrEqual(5);
  expect((await readFile(join(host, "back.bin"))).length).toBe(7_000_000);
});

it("a gzip bomb in a compressed part is refused without inflating it past the part size", async () => {
  const host = await fx.hostDir("bomb");
  await fx.start("bomb");
  const session = await syncIn(fx.backend, "bomb", [{ host, guest: "/home/bomb" }]);
  await fx.sh("bomb", "for i in $(seq 1 100000); do echo compressible; done > /home/bomb/x.txt");
  // 256 MiB of zeros in ~256 KB: what a hostile sandbox or server could send for a 1.3 MB part.
  const bomb =
    gzipSync(Buffer.alloc(256 * MiB), { level: 9 })
      .toString("base64")
      .match(/.{1,76}/g) ?? [];
  const w = watched(fx.backend, (script, result) =>
    script.includes("| gzip -1 | base64") ? { ...result, output: [...bomb, "MSBV-END"].map((text) => ({ stream: "stdout", text })) } : result,
  );
  const err = await caught(syncBack(w.backend, session));
  expect(err).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(err.message).toMatch(/does not inflate|inflated/);
  expect(await readFile(join(host, "x.txt"), "utf8").catch(() => "absent")).toBe("absent");
});
