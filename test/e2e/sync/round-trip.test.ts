import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors/index.js";
import { SyncConflictError } from "../../../src/sync/index.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture();
});
afterAll(async () => {
  await fx?.close();
});

it("round trip: edits, additions and deletions come back; a file both sides edited keeps the host version", async () => {
  const host = await fx.hostDir("rt");
  await writeFile(join(host, "edit.txt"), "original\n");
  await writeFile(join(host, "both.txt"), "base\n");
  await writeFile(join(host, "keep.txt"), "untouched\n");
  await writeFile(join(host, "gone.txt"), "delete me\n");
  await mkdir(join(host, "sub", "empty"), { recursive: true });
  await writeFile(join(host, "sub", "nested.py"), "print('nested')\n");
  await writeFile(join(host, "name with\nnewline"), "odd name\n");
  await fx.start("rt");

  const session = await syncIn(fx.backend, "rt", [{ host, guest: "/home/ws" }]);
  expect(session.inReport).toMatchObject({ filesTransferred: 6, filesDeleted: 0, filesUnchanged: 0, conflicts: [] });
  expect(await fx.sh("rt", "cd /home/ws && cat edit.txt sub/nested.py 'name with\nnewline' && test -d sub/empty && echo dir-ok")).toBe(
    "original\nprint('nested')\nodd name\ndir-ok",
  );

  await fx.sh(
    "rt",
    [
      "cd /home/ws",
      "echo sandbox-edit > edit.txt",
      "echo sandbox-both > both.txt",
      "rm gone.txt",
      "mkdir -p new/deeper && echo created > new/deeper/made.txt",
    ].join(" && "),
  );
  await writeFile(join(host, "both.txt"), "host-both\n"); // changed on the host after copy-in too

  const err = await syncBack(fx.backend, session).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncConflictError);
  const conflict = err as SyncConflictError;
  expect(conflict.code).toBe(ErrorCodes.SYNC_CONFLICT);
  expect(conflict.conflicts).toEqual([{ host, path: "both.txt", reason: "both-modified", sandboxCopy: "both.txt.sandbox-conflict" }]);
  expect(conflict.message).toContain(join(host, "both.txt"));
  // Everything else was applied before the conflict was reported.
  expect(await readFile(join(host, "both.txt"), "utf8")).toBe("host-both\n");
  expect(await readFile(join(host, "both.txt.sandbox-conflict"), "utf8")).toBe("sandbox-both\n");
  expect(await readFile(join(host, "edit.txt"), "utf8")).toBe("sandbox-edit\n");
  expect(await readFile(join(host, "new", "deeper", "made.txt"), "utf8")).toBe("created\n");
  expect(await readFile(join(host, "keep.txt"), "utf8")).toBe("untouched\n");
  expect(await readdir(host)).not.toContain("gone.txt");
  expect(await readdir(join(host, "sub"))).toContain("empty");
  expect(conflict.report).toMatchObject({ filesTransferred: 2, filesDeleted: 1, filesUnchanged: 3 });
});

it("sync-back carries a deletion only when the host did not change the file; otherwise it is a conflict", async () => {
  const host = await fx.hostDir("del");
  await writeFile(join(host, "plain.txt"), "x\n");
  await writeFile(join(host, "host-edited.txt"), "x\n");
  await fx.start("del");
  const session = await syncIn(fx.backend, "del", [{ host, guest: "/tmp/del" }]);
  await fx.sh("del", "rm /tmp/del/plain.txt /tmp/del/host-edited.txt");
  await writeFile(join(host, "host-edited.txt"), "host kept working\n");
  const err = (await syncBack(fx.backend, session).catch((e: unknown) => e)) as SyncConflictError;
  expect(err).toBeInstanceOf(SyncConflictError);
  expect(err.conflicts).toEqual([{ host, path: "host-edited.txt", reason: "host-modified-sandbox-deleted" }]);
  expect((await readdir(host)).sort()).toEqual(["host-edited.txt"]);
  expect(await readFile(join(host, "host-edited.txt"), "utf8")).toBe("host kept working\n");
});

it("a clean sync-back returns the report and a second one finds nothing to move", async () => {
  const host = await fx.hostDir("clean");
  await writeFile(join(host, "a.txt"), "a\n");
  await fx.start("clean");
  const session = await syncIn(fx.backend, "clean", [{ host, guest: "/home/clean" }]);
  await fx.sh("clean", "echo b > /home/clean/b.txt");
  const first = await syncBack(fx.backend, session);
  expect(first).toMatchObject({ filesTransferred: 1, filesDeleted: 0, filesUnchanged: 1, conflicts: [], skipped: [] });
  expect(await readFile(join(host, "b.txt"), "utf8")).toBe("b\n");
  const second = await syncBack(fx.backend, session);
  expect(second).toMatchObject({ filesTransferred: 0, filesUnchanged: 2, archiveBytes: 0 });
  await rm(join(host, "a.txt"));
});
