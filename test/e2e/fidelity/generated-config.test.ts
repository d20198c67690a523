import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PythonSandbox } from "../../../src/index.js";
import { fallbackGeneratedDir } from "../../../src/config/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 10: the generated record must never break a call. Where
// `.microsandbox/generated/` cannot be written, it goes to the user cache (one warning), and when
// that fails too the call still works. We run as root, so "not writable" is made with a file where
// the folder should be (root ignores permission bits, not ENOTDIR).

let fx: DevServerFixture;
let cache: string;
beforeAll(async () => {
  fx = await startFixture();
  cache = await mkdtemp(path.join(tmpdir(), "msbv-cache-"));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await fx?.close();
  await rm(cache, { recursive: true, force: true });
});

function captureWarnings(): { codes: string[]; messages: string[]; restore(): void } {
  const codes: string[] = [];
  const messages: string[] = [];
  const listener = (w: Error & { code?: string }) => {
    codes.push(w.code ?? "");
    messages.push(w.message);
  };
  process.on("warning", listener);
  return { codes, messages, restore: () => process.off("warning", listener) };
}

describe("the generated config never breaks a call", () => {
  it("falls back to $XDG_CACHE_HOME/microsandbox-volumes/generated/<hash> and warns once", async () => {
    vi.stubEnv("XDG_CACHE_HOME", cache);
    await mkdir(path.join(fx.dir, ".microsandbox"), { recursive: true });
    await writeFile(path.join(fx.dir, ".microsandbox", "generated"), "a file where the folder should be");
    const warnings = captureWarnings();
    try {
      for (const name of ["gen-fallback-a", "gen-fallback-b"]) {
        await using sb = await PythonSandbox.create({ name, serverUrl: fx.url, configPath: fx.configPath });
        expect(await (await sb.run("print(1)")).output()).toBe("1");
      }
      await new Promise((r) => setImmediate(r));
    } finally {
      warnings.restore();
    }
    const dir = fallbackGeneratedDir(fx.dir);
    expect(dir.startsWith(path.join(cache, "microsandbox-volumes", "generated"))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(["gen-fallback-a.toml", "gen-fallback-b.toml"]);
    expect(await readFile(path.join(dir, "gen-fallback-a.toml"), "utf8")).toContain('name = "gen-fallback-a"');
    expect(warnings.codes.filter((c) => c === "MSBV_GENERATED_FALLBACK")).toHaveLength(1);
    expect(warnings.messages.join("\n")).toContain(dir);
  });

  it("the volume-change guard reads the fallback record", async () => {
    vi.stubEnv("XDG_CACHE_HOME", cache);
    await mkdir(path.join(fx.dir, "ws", "other"), { recursive: true });
    const sb = await PythonSandbox.create({ name: "gen-guard", serverUrl: fx.url, configPath: fx.configPath, volumes: ["./ws:/workspace"] });
    try {
      const err = await PythonSandbox.create({
        name: "gen-guard",
        serverUrl: fx.url,
        configPath: fx.configPath,
        volumes: ["./ws/other:/workspace"],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: "MSBV_VOLUME_CONFLICT" });
    } finally {
      await sb.stop();
    }
  });

  it("works with no record at all when the cache is not writable either", async () => {
    const blocked = path.join(cache, "blocked");
    await writeFile(blocked, "not a folder");
    vi.stubEnv("XDG_CACHE_HOME", blocked);
    const warnings = captureWarnings();
    try {
      await using sb = await PythonSandbox.create({ name: "gen-none", serverUrl: fx.url, configPath: fx.configPath });
      expect(await (await sb.run("print(2)")).output()).toBe("2");
      await new Promise((r) => setImmediate(r));
    } finally {
      warnings.restore();
    }
    expect(warnings.codes).toContain("MSBV_GENERATED_FALLBACK");
    expect(warnings.messages.join("\n")).toMatch(/starting without it/);
  });
});
