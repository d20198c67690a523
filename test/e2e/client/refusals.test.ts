import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, MsbvError, PythonSandbox, type SandboxOptions } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Every refusal happens in the client before anything reaches the (real) server: the dev server's
// received log stays unchanged and no generated config file is written.

let fx: DevServerFixture;
beforeAll(async () => {
  fx = await startFixture();
  await writeFile(join(fx.dir, "a-file.txt"), "not a directory");
  await mkdir(join(fx.dir, "ws", "sub"));
});
afterAll(async () => {
  await fx?.close();
});

async function expectRefused(volumes: SandboxOptions["volumes"], code: string, hintPattern: RegExp, serverUrl?: string) {
  const before = fx.received.length;
  const generatedBefore = await fx.generatedFiles();
  const err = await PythonSandbox.create({
    name: "refused",
    serverUrl: serverUrl ?? fx.url,
    configPath: fx.configPath,
    ...(volumes ? { volumes } : {}),
  }).then(
    async (sb) => {
      await sb.stop();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MsbvError);
  const e = err as MsbvError;
  expect(e.code).toBe(code);
  expect(e.hint ?? "").toMatch(hintPattern);
  expect(fx.received.length).toBe(before);
  expect(await fx.generatedFiles()).toEqual(generatedBefore);
  return e;
}

describe("bad volume specs: typed error naming the fix, nothing sent, nothing written", () => {
  it("empty host side", () => expectRefused([":/workspace"], ErrorCodes.INVALID_VOLUME, /./));
  it("empty guest side", () => expectRefused(["./ws:"], ErrorCodes.INVALID_VOLUME, /./));
  it("relative guest path", () => expectRefused(["./ws:workspace"], ErrorCodes.INVALID_VOLUME, /\//));
  it("duplicate guest paths", () => expectRefused(["./ws:/workspace", "./ws/sub:/workspace"], ErrorCodes.INVALID_VOLUME, /./));
  // Nested guest paths are accepted now (issue 10): see test/e2e/volumes/mounts.test.ts.
  it("':' inside a path", () => expectRefused(["./ws:/work:space"], ErrorCodes.INVALID_VOLUME, /./));
  it("missing host directory", () => expectRefused(["./missing:/workspace"], ErrorCodes.HOST_PATH_INVALID, /create|mkdir|exist/i));
  it("a file instead of a directory", () => expectRefused(["./a-file.txt:/data"], ErrorCodes.HOST_PATH_INVALID, /./));
  it("':ro' suffix on the legacy server", () => expectRefused(["./ws:/workspace:ro"], ErrorCodes.INVALID_VOLUME, /readonly|read-only/i));
  // readonly: the dev server enforces it; the refusal against a legacy server is in test/e2e/volumes/readonly.test.ts.
  it("remote server with host paths", async () => {
    // TEST-NET-1 address: not this machine, never contacted because the refusal comes first.
    const e = await expectRefused(["./ws:/workspace"], ErrorCodes.REMOTE_HOST_PATHS, /sharedFilesystem[\s\S]*sync/, "http://192.0.2.1:5555");
    expect(e.message).toContain("192.0.2.1");
  });
});

describe("volume change while running", () => {
  it("refuses with VOLUME_CONFLICT, then proceeds after stop", async () => {
    await mkdir(join(fx.dir, "other"));
    const base = { name: "changing", serverUrl: fx.url, configPath: fx.configPath };
    const first = await PythonSandbox.create({ ...base, volumes: ["./ws:/workspace"] });
    try {
      const starts = fx.received.length;
      const err = await PythonSandbox.create({ ...base, volumes: ["./other:/workspace"] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.VOLUME_CONFLICT });
      expect((err as Error).message).toContain("stop it first");
      expect(fx.received.length).toBe(starts);
    } finally {
      await first.stop();
    }
    await using second = await PythonSandbox.create({ ...base, volumes: ["./other:/workspace"] });
    await second.run("open('/workspace/marker', 'w').write('other')");
    expect(await readFile(join(fx.dir, "other", "marker"), "utf8")).toBe("other");
  });
});
