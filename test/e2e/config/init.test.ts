import { readFile, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { initConfigFile, INIT_CONFIG_TEMPLATE, resolveSandbox } from "../../../src/config/index.js";
import { ConfigWriteError, ErrorCodes } from "../../../src/errors/index.js";
import { tempProject } from "../../helpers/temp-project.js";

describe("initConfigFile (msbv init)", () => {
  it("writes a commented config whose agent sandbox mounts ./workspace at /workspace", async () => {
    const p = await tempProject();
    const r = await initConfigFile(p.dir);
    expect(r).toEqual({
      configPath: path.join(p.dir, "microsandbox.toml"),
      workspaceDir: path.join(p.dir, "workspace"),
      gitignoreUpdated: true,
    });
    expect((await stat(r.workspaceDir)).isDirectory()).toBe(true);
    expect(await readFile(r.configPath, "utf8")).toBe(INIT_CONFIG_TEMPLATE);
    expect(await readFile(path.join(p.dir, ".gitignore"), "utf8")).toContain(".microsandbox/\n");

    // The file is valid and means what it says.
    const resolved = await resolveSandbox({ kind: "python", options: { name: "agent" }, cwd: p.dir, env: {}, readonlySupported: false });
    expect(resolved.sandbox).toMatchObject({
      name: "agent",
      image: "microsandbox/python",
      memory: 512,
      cpus: 1,
      workdir: "/workspace",
      volumes: [{ host: r.workspaceDir, guest: "/workspace", readonly: false }],
    });
    expect(resolved.server).toEqual({ url: "http://127.0.0.1:5555" });
  });

  it("refuses to overwrite an existing file without force, naming --force", async () => {
    const p = await tempProject();
    const file = await p.write("microsandbox.toml", "# mine\n");
    const err = await initConfigFile(p.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigWriteError);
    expect((err as ConfigWriteError).code).toBe(ErrorCodes.CONFIG_EXISTS);
    expect((err as Error).message).toContain("--force");
    expect(await readFile(file, "utf8")).toBe("# mine\n");

    const forced = await initConfigFile(p.dir, { force: true });
    expect(await readFile(forced.configPath, "utf8")).toBe(INIT_CONFIG_TEMPLATE);
  });

  it("adds .microsandbox/ to .gitignore once, keeping what is there", async () => {
    const p = await tempProject();
    await writeFile(path.join(p.dir, ".gitignore"), "node_modules"); // no trailing newline
    expect((await initConfigFile(p.dir)).gitignoreUpdated).toBe(true);
    expect((await initConfigFile(p.dir, { force: true })).gitignoreUpdated).toBe(false);
    const lines = (await readFile(path.join(p.dir, ".gitignore"), "utf8")).split("\n");
    expect(lines[0]).toBe("node_modules");
    expect(lines.filter((l) => l === ".microsandbox/")).toHaveLength(1);
    const other = await tempProject();
    await writeFile(path.join(other.dir, ".gitignore"), "/.microsandbox\n");
    expect((await initConfigFile(other.dir)).gitignoreUpdated).toBe(false);
  });
});
