import { mkdir, readFile, rm } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, MsbvError, PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 9: a warm sandbox (a pool) keeps running; the host replaces the mounted folder
// (`rm -rf ws && mkdir ws`); a create() with the same name used to re-attach and every write went to
// the deleted folder. Now that create() fails with MSBV_VOLUME_CONFLICT; stop + create mounts the
// new folder.

let fx: DevServerFixture;
beforeAll(async () => {
  fx = await startFixture();
  await mkdir(path.join(fx.dir, "pool-ws"));
});
afterAll(async () => {
  await fx?.close();
});

describe("a replaced host folder is detected", () => {
  it("re-attaching to a sandbox whose folder was replaced is refused; a restart mounts the new one", async () => {
    const opts = { name: "pool-1", serverUrl: fx.url, configPath: fx.configPath, volumes: ["./pool-ws:/workspace"] };
    const warm = await PythonSandbox.create(opts);
    // Control: an unchanged folder re-attaches fine.
    const again = await PythonSandbox.create(opts);
    await again.command.run("sh", ["-c", "echo one > /workspace/a.txt"]);
    expect(await readFile(path.join(fx.dir, "pool-ws", "a.txt"), "utf8")).toBe("one\n");

    await rm(path.join(fx.dir, "pool-ws"), { recursive: true });
    await mkdir(path.join(fx.dir, "pool-ws"));
    const err = await PythonSandbox.create(opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MsbvError);
    expect((err as MsbvError).code).toBe(ErrorCodes.VOLUME_CONFLICT);
    expect((err as MsbvError).message).toMatch(/deleted or replaced/);
    expect((err as MsbvError).hint).toMatch(/stop the sandbox/);

    await warm.stop();
    const fresh = await PythonSandbox.create(opts);
    try {
      await fresh.command.run("sh", ["-c", "echo two > /workspace/b.txt"]);
      expect(await readFile(path.join(fx.dir, "pool-ws", "b.txt"), "utf8")).toBe("two\n");
    } finally {
      await fresh.stop();
    }
  });
});
