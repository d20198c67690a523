import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PythonSandbox } from "../../../src/index.js";
import { errorText, rawRpc, rawStart } from "../../helpers/raw-rpc.js";
import { startSafetyServer, type SafetyServer } from "../../helpers/safety-fixture.js";

// Nested mounts (host folders are siblings) and every accepted volume form, through the real dev
// server and bubblewrap: files written inside land in the right host folders.

const CONFIG = `
[sandboxes.nested-file]
volumes = ["./ws-file:/w", { host = "./skills-file", mount = "/w/skills" }]
`;

let s: SafetyServer;
beforeAll(async () => {
  s = await startSafetyServer(CONFIG);
  for (const d of ["ws", "skills", "ws-file", "skills-file", "ws-raw", "skills-raw", "m", "t"])
    await mkdir(path.join(s.project, d), { recursive: true });
});
afterAll(async () => {
  await s?.close();
});

const host = (...p: string[]) => path.join(s.project, ...p);

async function writeInside(sb: PythonSandbox, files: Record<string, string>): Promise<void> {
  const code = Object.entries(files)
    .map(([p, text]) => `open(${JSON.stringify(p)}, "w").write(${JSON.stringify(text)})`)
    .join("\n");
  const exec = await sb.run(`${code}\nprint("ok")`);
  expect(await exec.output()).toContain("ok");
}

describe("nested mounts land in the right host folders (parent mounted first)", () => {
  it("through the client, given child first", async () => {
    await using sb = await PythonSandbox.create({
      serverUrl: s.url,
      configPath: s.configPath,
      name: "nested-client",
      volumes: ["./skills:/w/skills", "./ws:/w"],
    });
    await writeInside(sb, { "/w/top.txt": "parent", "/w/skills/tool.txt": "child" });
    expect(await readFile(host("ws", "top.txt"), "utf8")).toBe("parent");
    expect(await readFile(host("skills", "tool.txt"), "utf8")).toBe("child");
    // The child's file is not in the parent's host folder (only its empty mount point is).
    await expect(readFile(host("ws", "skills", "tool.txt"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("through microsandbox.toml", async () => {
    await using sb = await PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name: "nested-file" });
    await writeInside(sb, { "/w/top.txt": "file-parent", "/w/skills/tool.txt": "file-child" });
    expect(await readFile(host("ws-file", "top.txt"), "utf8")).toBe("file-parent");
    expect(await readFile(host("skills-file", "tool.txt"), "utf8")).toBe("file-child");
  });

  it("through raw JSON-RPC", async () => {
    const reply = await rawStart(s.url, "nested-raw", { volumes: [`${host("skills-raw")}:/w/skills`, `${host("ws-raw")}:/w`] });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    try {
      const run = await rawRpc(s.url, "sandbox.command.run", {
        sandbox: "nested-raw",
        command: "sh",
        args: ["-c", "echo raw-parent > /w/top.txt && echo raw-child > /w/skills/tool.txt"],
      });
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      expect(await readFile(host("ws-raw", "top.txt"), "utf8")).toBe("raw-parent\n");
      expect(await readFile(host("skills-raw", "tool.txt"), "utf8")).toBe("raw-child\n");
    } finally {
      await rawRpc(s.url, "sandbox.stop", { sandbox: "nested-raw" });
    }
  });

  it("a duplicate guest path is still refused", async () => {
    const reply = await rawStart(s.url, "dup", { volumes: [`${host("ws")}:/w`, `${host("skills")}:/w/`] });
    expect(reply.status).toBe(400);
    expect(errorText(reply)).toContain("duplicate guest path /w");
  });

  it("a nested mount point behind a symlink planted in the parent volume is refused", async () => {
    const parent = host("ws-planted");
    const target = path.join(s.root, "planted-target");
    await mkdir(parent);
    await mkdir(target);
    // What a sandbox with /w mounted could leave behind for the next start: /w/skills -> elsewhere.
    await symlink(target, path.join(parent, "skills"));
    const reply = await rawStart(s.url, "planted-nest", { volumes: [`${parent}:/w`, `${host("skills")}:/w/skills`] });
    // The caller's own path is at fault, not the server: a typed 400 naming the rule and the link.
    expect(reply.status).toBe(400);
    expect(errorText(reply)).toMatch(/symlink.*MSBV_HOST_PATH_DENIED/s);
    expect(await s.runningSandboxes()).not.toContain("planted-nest");
  });
});

describe("every accepted form mounts", () => {
  it("{ host, mount } objects and [host, guest] tuples", async () => {
    await writeFile(host("t", "seed.txt"), "seed");
    await using sb = await PythonSandbox.create({
      serverUrl: s.url,
      configPath: s.configPath,
      name: "forms",
      volumes: [{ host: "./m", mount: "/m" }, ["./t", "/t"]],
    });
    await writeInside(sb, { "/m/a.txt": "mount-form", "/t/b.txt": "tuple-form" });
    expect(await readFile(host("m", "a.txt"), "utf8")).toBe("mount-form");
    expect(await readFile(host("t", "b.txt"), "utf8")).toBe("tuple-form");
    const seen = await sb.run("print(open('/t/seed.txt').read())");
    expect(await seen.output()).toContain("seed");
  });
});
