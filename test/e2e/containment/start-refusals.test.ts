import { mkdir, rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, isMsbvError } from "../../../src/index.js";
import { createRuntimeFixture, stdout, type RuntimeFixture } from "../../helpers/runtime-fixture.js";

// With the server as root, a volume the kernel cannot idmap (devtmpfs has no idmapped-mount support)
// must fail the start with a typed error naming the launcher step; it must never fall back to
// running the sandbox as host root. The runtime runs in this (root) test process.

const onDevtmpfs = `/dev/msbv-idmap-test-${process.pid}`;
let fixture: RuntimeFixture;

beforeAll(async () => {
  fixture = await createRuntimeFixture();
  await mkdir(onDevtmpfs);
});
afterAll(async () => {
  await fixture?.dispose();
  await rm(onDevtmpfs, { recursive: true, force: true });
});

describe.runIf(process.getuid?.() === 0)("containment failures at start (server as root)", () => {
  it("a volume whose filesystem refuses an idmapped mount is a typed DEV_SERVER error, and nothing runs", async () => {
    const error = await fixture.runtime.start(fixture.spec("no-idmap", { volumes: [{ host: onDevtmpfs, guest: "/data" }] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMsbvError(error) && error.code).toBe(ErrorCodes.DEV_SERVER);
    expect(String((error as Error).message)).toMatch(/containment launcher said: msbv-launcher: idmap fd \d+: Invalid argument/);
    expect(fixture.runtime.isRunning("no-idmap")).toBe(false);
    // Control: the same runtime starts a sandbox with an ordinary folder.
    const dir = await fixture.newDir("ok");
    await fixture.runtime.start(fixture.spec("ok", { volumes: [{ host: dir, guest: "/data" }] }));
    expect(stdout(await fixture.runtime.runRepl("ok", "python", "import os; print(os.getuid())"))).toBe("0");
  });
});

describe("workdir outside the sandbox (issue 11 finding 9, runtime side)", () => {
  it("a workdir through /../oldroot is refused before bubblewrap runs, and no host folder appears", async () => {
    const { lstat } = await import("node:fs/promises");
    const hostTarget = `/tmp/msbv-oldroot-pwn-${process.pid}`;
    for (const workdir of [`/../oldroot${hostTarget}`, "/home/../oldroot/tmp", "relative/dir"]) {
      const error = await fixture.runtime.start(fixture.spec(`wd-${workdir.length}`, { workdir })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMsbvError(error) && error.code, workdir).toBe(ErrorCodes.INVALID_OPTION);
    }
    expect(
      await lstat(hostTarget).then(
        () => "exists",
        () => "absent",
      ),
    ).toBe("absent");
  });
});

describe("a symlink a sandbox planted in its own /home (runtime side)", () => {
  it("refuses a later volume through it, naming the guest path and never where the server keeps the sandbox's state", async () => {
    await fixture.runtime.start(fixture.spec("planter"));
    // The sandbox's code, the attack: its /home outlives it, so it leaves a symlink there.
    expect(stdout(await fixture.runtime.runRepl("planter", "python", "import os; os.symlink('/etc', '/home/planted'); print('ok')"))).toBe("ok");
    await fixture.runtime.stop("planter");
    const dir = await fixture.newDir("data");
    const error = await fixture.runtime.start(fixture.spec("planter", { volumes: [{ host: dir, guest: "/home/planted/data" }] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    // sandbox.start answers this one as a 400 (src/server/methods/start.ts): its text leaves the host.
    expect(isMsbvError(error) && error.code).toBe(ErrorCodes.HOST_PATH_DENIED);
    expect(String((error as Error).message)).toContain('"/home/planted" in the sandbox is a symlink');
    expect(String((error as Error).message)).not.toContain(fixture.stateDir);
    expect(fixture.runtime.isRunning("planter")).toBe(false);
  });
});
