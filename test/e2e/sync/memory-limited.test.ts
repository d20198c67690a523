import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// The bench's sync section once lost its sandbox here: a 64 MiB incompressible file on the legacy
// command route, the guest folder and the staged archive in /tmp (tmpfs, charged to the sandbox's
// 512 MiB memory cgroup) next to 64 MiB another scenario left there, and the Python REPL that wrote the
// file. dmesg showed the supervisor's heap at 250-330 MiB of garbage when the cgroup ran out, so the OOM
// killer took it and the sandbox with it. Both routes must bring such a file in and back intact, and the
// sandbox must still be running afterwards, and the supervisor's peak memory well under the limit.

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const MiB = 1024 * 1024;
const fixtures: SyncFixture[] = [];
let legacy: SyncFixture;
let fast: SyncFixture;
beforeAll(async () => {
  legacy = await startSyncFixture({ syncFileChannel: false });
  fixtures.push(legacy);
  fast = await startSyncFixture();
  fixtures.push(fast);
});
afterAll(async () => {
  for (const fx of fixtures) await fx.close();
});

async function roundTrip(fx: SyncFixture, name: string, channel: "command" | "auto"): Promise<void> {
  await fx.start(name); // memory 512, as the bench's sandbox
  if (channel === "auto") expect(await fx.backend.fileChannel()).toBeDefined();
  else expect(await fx.backend.fileChannel()).toBeUndefined();
  await fx.sh(name, "mkdir -p /tmp/other && head -c 67108864 /dev/zero > /tmp/other/large.bin");
  // As in bench/lib/workload.mjs: the REPL keeps a 64 MiB bytes object for its writes.
  expect((await fx.backend.runCode(name, "python", `_BIG = bytes(range(256)) * ${(64 * MiB) / 256}\nprint(len(_BIG))\n`, 120)).status).toBe(
    "success",
  );
  const host = await fx.hostDir(`${name}-in`);
  const data = randomBytes(64 * MiB);
  await writeFile(join(host, "large.bin"), data);
  await syncIn(fx.backend, name, [{ host, guest: "/tmp/sync-random" }], { channel });
  expect((await fx.sh(name, "sha256sum < /tmp/sync-random/large.bin")).slice(0, 64)).toBe(sha(data));

  const back = await fx.hostDir(`${name}-back`);
  await fx.sh(name, "rm -rf /tmp/sync-random");
  const session = await syncIn(fx.backend, name, [{ host: back, guest: "/tmp/sync-random" }], { channel });
  // The REPL writes the file, as the bench does: its memory stays in the sandbox's cgroup too.
  const run = await fx.backend.runCode(
    name,
    "python",
    `import os\nos.makedirs("/tmp/sync-random", exist_ok=True)\nopen("/tmp/sync-random/large.bin", "wb").write(os.urandom(${64 * MiB}))\n`,
    120,
  );
  expect(run.status).toBe("success");
  const guestSha = (await fx.sh(name, "sha256sum < /tmp/sync-random/large.bin")).slice(0, 64);
  const report = await syncBack(fx.backend, session, { channel });
  expect(report).toMatchObject({ filesTransferred: 1, conflicts: [] });
  expect(sha(await readFile(join(back, "large.bin")))).toBe(guestSha);
  // The supervisor's peak stays far from the limit. Measured on this workload: 241 MiB before its heap
  // was capped and output went as raw frames (the sandbox's cgroup then peaked at 459 of 512 MiB), 137 MiB after.
  expect(await supervisorPeakMiB(name)).toBeLessThan(200);
  // Still the same sandbox: it was not stopped (OOM-killed) on the way.
  expect(await fx.sh(name, "echo alive; test -f /tmp/other/large.bin && echo kept")).toBe("alive\nkept");
}

/** VmHWM of the sandbox's supervisor (the node process whose argv carries `msbv-sandbox:<name>:`, src/server/runtime/sandbox-instance.ts). */
async function supervisorPeakMiB(name: string): Promise<number> {
  const peaks: number[] = [];
  for (const pid of (await readdir("/proc")).filter((e) => /^\d+$/.test(e))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(`\0msbv-sandbox:${name}:`)) continue;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    // bwrap's own argv names the supervisor's too; the supervisor is the node process.
    if (!/^Name:\s+node$/m.test(status)) continue;
    const kib = /^VmHWM:\s+(\d+)/m.exec(status)?.[1];
    if (kib) peaks.push(Number(kib) / 1024);
  }
  expect(peaks).toHaveLength(1);
  return peaks[0] ?? Number.POSITIVE_INFINITY;
}

it("the legacy command route moves a 64 MiB incompressible file in and back in a 512 MiB sandbox", async () => {
  await roundTrip(legacy, "memlegacy", "command");
});

it("the file channel moves a 64 MiB incompressible file in and back in a 512 MiB sandbox", async () => {
  await roundTrip(fast, "memfast", "auto");
});
