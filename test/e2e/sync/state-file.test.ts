import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SyncConflictError } from "../../../src/sync/index.js";
import { loadSyncSession, syncBack, syncIn, syncStatePath } from "../../../src/sync/index.js";
import { startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// The last agreed state is recorded on the host, so work left in a sandbox by a session that is gone
// (another process, `msbv up`, a crash) is neither destroyed by the next copy-in nor lost.

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture();
});
afterAll(async () => {
  await fx?.close();
});

it("a later copy-in refuses to overwrite unsynced sandbox work; loadSyncSession brings it home", async () => {
  const project = await fx.hostDir("state");
  const host = await fx.hostDir("state/ws");
  await writeFile(join(host, "notes.txt"), "v1\n");
  await fx.start("state");
  const volumes = [{ host, guest: "/home/ws" }];
  await syncIn(fx.backend, "state", volumes, { stateDir: project });
  expect(JSON.parse(await readFile(join(project, syncStatePath("state")), "utf8"))).toMatchObject({ version: 1, sandbox: "state" });

  // The first session goes away without syncing back; the sandbox keeps running with new work.
  await fx.sh("state", "echo v2-from-sandbox > /home/ws/notes.txt && echo draft > /home/ws/draft.txt");

  const err = await syncIn(fx.backend, "state", volumes, { stateDir: project }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncConflictError);
  expect((err as SyncConflictError).conflicts.map((c) => [c.path, c.reason])).toEqual([
    ["draft.txt", "sandbox-not-synced-back"],
    ["notes.txt", "sandbox-not-synced-back"],
  ]);
  expect(await fx.sh("state", "cat /home/ws/notes.txt /home/ws/draft.txt")).toBe("v2-from-sandbox\ndraft");

  const recovered = await loadSyncSession(project, "state");
  expect(recovered).toBeDefined();
  const report = await syncBack(fx.backend, recovered!);
  expect(report).toMatchObject({ filesTransferred: 2, conflicts: [] });
  expect(await readFile(join(host, "notes.txt"), "utf8")).toBe("v2-from-sandbox\n");
  expect(await readFile(join(host, "draft.txt"), "utf8")).toBe("draft\n");

  // Now both sides agree (syncBack recorded it): copy-in proceeds and sends nothing.
  const again = await syncIn(fx.backend, "state", volumes, { stateDir: project });
  expect(again.inReport).toMatchObject({ filesTransferred: 0, filesUnchanged: 2, conflicts: [] });
});

it("no record for a name → undefined", async () => {
  expect(await loadSyncSession(await fx.hostDir("empty-project"), "never-started")).toBeUndefined();
});
