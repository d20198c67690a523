import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SyncConflictError } from "../../../src/sync/index.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { observeCommands, startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

const BODY_LIMIT = 2 * 1024 * 1024;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture();
});
afterAll(async () => {
  await fx?.close();
});

it("a 5 MB file crosses the 2 MB request limit in chunks, and a 7 MiB sandbox file comes back in parts", async () => {
  const host = await fx.hostDir("big");
  const big = randomBytes(5 * 1000 * 1000);
  await writeFile(join(host, "big.bin"), big);
  await fx.start("big");
  const seen = observeCommands(fx.backend);

  const session = await syncIn(seen.backend, "big", [{ host, guest: "/home/big" }]);
  expect(session.inReport).toMatchObject({ filesTransferred: 1, bytesTransferred: big.length });
  expect(Math.max(...seen.bodies)).toBeLessThan(BODY_LIMIT);
  expect(seen.bodies.filter((b) => b > 1_000_000).length).toBeGreaterThanOrEqual(5);
  expect(await fx.sh("big", "sha256sum < /home/big/big.bin")).toContain(sha(big));

  await fx.sh("big", "printf tail >> /home/big/big.bin && head -c 7340033 /dev/urandom > /home/big/gen.bin");
  const report = await syncBack(seen.backend, session);
  expect(report).toMatchObject({ filesTransferred: 2, conflicts: [] });
  expect(sha(await readFile(join(host, "big.bin")))).toBe(sha(Buffer.concat([big, Buffer.from("tail")])));
  const gen = await readFile(join(host, "gen.bin"));
  expect(gen.length).toBe(7340033);
  expect(await fx.sh("big", "sha256sum < /home/big/gen.bin")).toContain(sha(gen));
});

it("unchanged files are not sent again, in either direction", async () => {
  const host = await fx.hostDir("diff");
  const stateDir = await fx.hostDir("diff-project");
  const heavy = randomBytes(1024 * 1024);
  await writeFile(join(host, "heavy.bin"), heavy);
  for (let i = 0; i < 20; i++) await writeFile(join(host, `f${i}.txt`), `file ${i}\n`);
  await fx.start("diff");

  const first = await syncIn(fx.backend, "diff", [{ host, guest: "/home/diff" }], { stateDir });
  expect(first.inReport).toMatchObject({ filesTransferred: 21, filesUnchanged: 0 });
  expect(first.inReport.archiveBytes).toBeGreaterThan(heavy.length);

  // Same sandbox, same host folder: the guest already has every file with the same hash.
  const again = await syncIn(fx.backend, "diff", [{ host, guest: "/home/diff" }], { stateDir });
  expect(again.inReport).toMatchObject({ filesTransferred: 0, filesUnchanged: 21, archiveBytes: 0, bytesTransferred: 0 });

  // One host edit and one guest-only file. The guest's f3.txt matches the recorded state, so it may be
  // replaced; stray.txt was never synced back, so copy-in refuses until told to discard it.
  await writeFile(join(host, "f3.txt"), "changed on host\n");
  await fx.sh("diff", "echo stray > /home/diff/stray.txt");
  const refused = await syncIn(fx.backend, "diff", [{ host, guest: "/home/diff" }], { stateDir }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(SyncConflictError);
  expect((refused as SyncConflictError).conflicts).toEqual([{ host, path: "stray.txt", reason: "sandbox-not-synced-back" }]);
  expect(await fx.sh("diff", "cat /home/diff/f3.txt /home/diff/stray.txt")).toBe("file 3\nstray");
  const third = await syncIn(fx.backend, "diff", [{ host, guest: "/home/diff" }], { stateDir, overwriteGuest: true });
  expect(third.inReport).toMatchObject({ filesTransferred: 1, filesUnchanged: 20, filesDeleted: 1 });
  expect(third.inReport.archiveBytes).toBeLessThan(10_000);
  expect(await fx.sh("diff", "cat /home/diff/f3.txt; test -e /home/diff/stray.txt || echo no-stray")).toBe("changed on host\nno-stray");

  // Back: only the file the sandbox edited travels, not the 1 MiB one.
  await fx.sh("diff", "echo sandbox > /home/diff/f7.txt");
  const seen = observeCommands(fx.backend);
  const back = await syncBack(seen.backend, third);
  expect(back).toMatchObject({ filesTransferred: 1, filesUnchanged: 20, filesDeleted: 0, conflicts: [] });
  expect(back.archiveBytes).toBeGreaterThan(0);
  expect(back.archiveBytes).toBeLessThan(64 * 1024); // GNU tar pads to 10 KiB records; heavy.bin alone is 1 MiB
  expect(await readFile(join(host, "f7.txt"), "utf8")).toBe("sandbox\n");
  expect(await readFile(join(host, "heavy.bin"))).toEqual(heavy);
  // One archive for the whole volume, not a request per file.
  expect(seen.scripts.filter((s) => s.includes("tar -c")).length).toBe(1);
});
