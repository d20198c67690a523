import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../../../helpers/server-harness.js";

// The server side of the one volume model: msbv.capabilities, readonly_volumes reaching the runtime
// (and the Sandboxfile), nested guests, and the allowed roots.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const start = (hh: Harness, sandbox: string, config: Record<string, unknown>) =>
  hh.rpc(call("sandbox.start", { sandbox, namespace: "default", config: { image: "microsandbox/python", ...config } }));

describe("msbv.capabilities", () => {
  it("advertises read-only and nested volumes (a legacy server answers method-not-found)", async () => {
    h = await startHarness({ dev: true });
    const reply = await h.rpc(call("msbv.capabilities", {}));
    expect(reply.status).toBe(200);
    // The fake runtime cannot run processes, so no sync file channel is advertised (syncChannel absent).
    expect((reply.json as { result: unknown }).result).toEqual({ readonlyVolumes: true, nestedVolumes: true });
  });

  it("the separate msbv.sync_channel method is gone: the channel is a field of this one answer", async () => {
    h = await startHarness({ dev: true });
    const reply = await h.rpc(call("msbv.sync_channel", {}));
    expect((reply.json as { error?: { code: number } }).error?.code).toBe(-32601);
  });
});

describe("volumes reach the runtime as judged", () => {
  it("readonly_volumes marks exactly those guests read-only, and is kept in the Sandboxfile for restarts", async () => {
    h = await startHarness({ dev: true });
    for (const d of ["ws", "tools"]) await mkdir(join(h.server.projectDir, d));
    const reply = await start(h, "ro", { volumes: ["tools:/w/tools/", "ws:/w"], readonly_volumes: ["/w/tools/"] });
    expect(reply.status, reply.text).toBe(200);
    expect(h.runtime.started.at(-1)?.volumes).toStrictEqual([
      { host: join(h.server.projectDir, "tools"), guest: "/w/tools", readonly: true },
      { host: join(h.server.projectDir, "ws"), guest: "/w", readonly: false },
    ]);
    expect(await readFile(join(h.server.projectDir, "Sandboxfile"), "utf8")).toContain("readonly_volumes");
    await h.rpc(call("sandbox.stop", { sandbox: "ro", namespace: "default" }));
    // A start without config uses the stored entry: still read-only.
    expect((await h.rpc(call("sandbox.start", { sandbox: "ro", namespace: "default" }))).status).toBe(200);
    expect(h.runtime.started.at(-1)?.volumes[0]?.readonly).toBe(true);
  });

  it("the default root is the project dir; allowRoots replaces it", async () => {
    h = await startHarness({ dev: true });
    const other = join(h.root, "elsewhere");
    await mkdir(join(other, "sub"), { recursive: true });
    await mkdir(join(h.server.projectDir, "in-project"));
    const refused = await start(h, "a", { volumes: [`${other}/sub:/e`] });
    expect(refused.status).toBe(400);
    expect((refused.json as { error: string }).error).toContain("outside the allowed roots");
    expect((await start(h, "b", { volumes: ["in-project:/p"] })).status).toBe(200);
    await h.close();

    const dir = await mkdtemp(join(tmpdir(), "msbv-allow-root-"));
    await mkdir(join(dir, "sub"));
    try {
      h = await startHarness({ dev: true, allowRoots: [dir] });
      expect((await start(h, "c", { volumes: [`${dir}/sub:/e`] })).status).toBe(200);
      await mkdir(join(h.server.projectDir, "in-project"));
      expect((await start(h, "d", { volumes: ["in-project:/p"] })).status).toBe(400);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a volume path that is not text (a lone UTF-16 surrogate)", () => {
  // JSON carries "\ud800" happily. Node's fs would write it as U+FFFD, so "ws\ud800" would reach a
  // folder named "ws\ufffd" — not the path the caller wrote. Such a folder exists here, so only the
  // volume model's rule (src/volumes/parse-spec.ts) stands between the request and a mount.
  const loneHigh = "\ud800";
  const loneLow = "\udc80";
  it.each([
    ["host", `ws${loneHigh}:/data`],
    ["guest", `ws\ufffd:/data${loneLow}`],
  ])("in the %s path: the usual 400 naming the volume, the rule and MSBV_INVALID_VOLUME; nothing written or started", async (side, volume) => {
    h = await startHarness({ dev: true });
    await mkdir(join(h.server.projectDir, "ws\ufffd"));
    const reply = await start(h, "nt", { volumes: [volume] });
    expect(reply.status, reply.text).toBe(400);
    const body = reply.json as { error: string; code: number };
    expect(body.code).toBe(2001);
    expect(body.error).toBe(
      `Invalid volume '${volume}' in config.volumes[0]: the ${side} path is not valid Unicode text: it holds a lone UTF-16 surrogate (MSBV_INVALID_VOLUME)`,
    );
    expect(h.runtime.started).toHaveLength(0);
    await expect(readFile(join(h.server.projectDir, "Sandboxfile"), "utf8")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("control: the same paths as text (U+FFFD itself) are mounted", async () => {
    h = await startHarness({ dev: true });
    await mkdir(join(h.server.projectDir, "ws\ufffd"));
    const reply = await start(h, "nt", { volumes: ["ws\ufffd:/data\ufffd"] });
    expect(reply.status, reply.text).toBe(200);
    expect(h.runtime.started.at(-1)?.volumes).toStrictEqual([{ host: join(h.server.projectDir, "ws\ufffd"), guest: "/data\ufffd", readonly: false }]);
  });
});
