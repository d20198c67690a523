import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevServerError } from "../../../src/errors/index.js";
import { createRuntimeFixture, type RuntimeFixture } from "../../helpers/runtime-fixture.js";

// The refusal path of the post-setup mount check (containment/verify-mounts.ts), triggered without a
// race: the runtime (below the HTTP host policy) is asked to mount the host's /usr at /opt/u, and the
// sandbox also has /usr itself, so the volume's mount appears at a second mount point, as it would
// after a followed symlink. The start must fail typed and leave nothing running.

async function sandboxProcesses(name: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(`msbv-sandbox:${name}:`)) pids.push(Number(entry));
  }
  return pids;
}

describe("post-setup mount check refusal", () => {
  let fx: RuntimeFixture;
  beforeAll(async () => {
    fx = await createRuntimeFixture();
  });
  afterAll(async () => {
    await fx?.dispose();
  });

  it("a volume mounted at a second mount point kills the sandbox and fails the start", async () => {
    const started = fx.runtime.start(fx.spec("twice", { volumes: [{ host: "/usr", guest: "/opt/u", readonly: true }] }));
    await expect(started).rejects.toThrow(DevServerError);
    await expect(started).rejects.toThrow(/its volume "\/usr" for \/opt\/u is also mounted at \/usr; a symlink was swapped in/);
    expect(fx.runtime.isRunning("twice")).toBe(false);
    expect(await sandboxProcesses("twice")).toEqual([]);
  });

  it("control: the same sandbox without that volume starts", async () => {
    await fx.runtime.start(fx.spec("twice", { volumes: [] }));
    expect(fx.runtime.isRunning("twice")).toBe(true);
    await fx.runtime.stop("twice");
  });
});
