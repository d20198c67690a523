import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ErrorCodes, SyncError } from "../../../src/errors/index.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { observeCommands, startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// A sync-back that cannot complete is a SyncError (MSBV_SYNC_FAILED), never a silent partial result.

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture();
});
afterAll(async () => {
  await fx?.close();
});

async function prepared(name: string) {
  const host = await fx.hostDir(name);
  await writeFile(join(host, "a.txt"), "host a\n");
  await fx.start(name);
  const session = await syncIn(fx.backend, name, [{ host, guest: "/home/ws" }]);
  await fx.sh(name, "echo sandbox > /home/ws/a.txt && echo new > /home/ws/b.txt");
  return { host, session };
}

it("the sandbox already stopped → SyncError, host untouched", async () => {
  const { host, session } = await prepared("stopped");
  await fx.backend.stop("stopped");
  const err = await syncBack(fx.backend, session).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe(ErrorCodes.SYNC_FAILED);
  expect((err as SyncError).message).toContain('sandbox "stopped"');
  expect(await readdir(host)).toEqual(["a.txt"]);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("host a\n");
});

it("data altered between checksum and transfer (corrupt stdout) → SyncError, host untouched", async () => {
  const { host, session } = await prepared("corrupt");
  // After the pack step has reported the archive's size and SHA-256, code in the sandbox flips bytes in it.
  const tamper = observeCommands(fx.backend, async (script, args) => {
    if (script.includes("tar -c") && args[3]?.endsWith("out.tar")) {
      await fx.sh("corrupt", `printf XXXX | dd of=${args[3]} bs=1 seek=700 conv=notrunc 2>/dev/null`);
    }
  });
  const err = await syncBack(tamper.backend, session).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe(ErrorCodes.SYNC_FAILED);
  expect((err as SyncError).message).toContain("corrupt data");
  expect(await readdir(host)).toEqual(["a.txt"]);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("host a\n");
});

it("the guest folder removed in the sandbox → SyncError, nothing deleted on the host", async () => {
  const { host, session } = await prepared("vanished");
  await fx.sh("vanished", "rm -rf /home/ws");
  const err = await syncBack(fx.backend, session).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe(ErrorCodes.SYNC_FAILED);
  expect((err as SyncError).message).toContain("no longer exists");
  expect(await readdir(host)).toEqual(["a.txt"]);
});

it("sync-in to a guest path on the sandbox's read-only root → SyncError naming the fix", async () => {
  const host = await fx.hostDir("ro");
  await writeFile(join(host, "a.txt"), "a\n");
  await fx.start("ro");
  // The root is writable (as a microVM's); /usr is the host's, read-only.
  const err = await syncIn(fx.backend, "ro", [{ host, guest: "/usr/local/ws" }]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe(ErrorCodes.SYNC_FAILED);
  expect((err as SyncError).hint).toContain("read-only");
});
