import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// The bench's sync section once lost its sandbox here: a 64 MiB incompressible file on the legacy
// command route, the guest folder and the staged archive in /tmp (tmpfs, charged to the sandbox's
// 512 MiB memory cgroup) next to 64 MiB another scenario left there, and the Python REPL that wrote the
// file. dmesg showed the supervisor's heap at 250-330 MiB of garbage when the cgroup ran out, so the OOM
// killer took it and the sandbox with it. Both routes must bring such a file in and back intact, and the
// sandbox must still be running afterwards.

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
  // Still the same sandbox: it was not stopped (OOM-killed) on the way.
  expect(await fx.sh(name, "echo alive; test -f /tmp/other/large.bin && echo kept")).toBe("alive\nkept");
}

it("the legacy command route moves a 64 MiB incompressible file in and back in a 512 MiB sandbox", async () => {
  await roundTrip(legacy, "memlegacy", "command");
});

it("the file channel moves a 64 MiB incompressible file in and back in a 512 MiB sandbox", async () => {
  await roundTrip(fast, "memfast", "auto");
});
