import { stat } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveSandbox, type SandboxCallOptions } from "../../../src/config/index.js";
import { ConfigError, ErrorCodes, InvalidOptionError, type MsbvError } from "../../../src/errors/index.js";
import { tempProject } from "../../helpers/temp-project.js";

const FILE = `
[server]
url = "http://file-host:7000"
api_key_env = "MY_KEY_VAR"

[defaults]
image = "defaults/image"
memory = 700
cpus = 3
shell = "/bin/bash"
ports = ["1000:1000"]
volumes = ["./shared:/shared", "./d-only:/d-only"]

[defaults.env]
FROM_DEFAULTS = "d"
OVERRIDDEN = "defaults"

[sandboxes.agent]
image = "file/agent"
memory = 900
workdir = "/workspace"
depends_on = ["db"]
volumes = ["./agent-shared:/shared", { host = "./workspace", guest = "/workspace", create = true }]

[sandboxes.agent.env]
OVERRIDDEN = "sandbox"
ROLE = "agent"

[sandboxes.agent.scripts]
setup = "echo setup"

[sandboxes.db]
`;

async function project() {
  const p = await tempProject();
  await p.write("microsandbox.toml", FILE);
  for (const d of ["shared", "d-only", "agent-shared", "call-shared", "extra"]) await p.mkdir(d);
  return p;
}

const resolve = (cwd: string, options: SandboxCallOptions, env: NodeJS.ProcessEnv = {}, kind: "python" | "node" = "python") =>
  resolveSandbox({ kind, options, cwd, env, readonlySupported: true });

describe("resolveSandbox precedence: call > env > file ([sandboxes.x] over [defaults]) > built-in", () => {
  it("{ name } alone starts the sandbox declared under that name, merged over [defaults]", async () => {
    const p = await project();
    const cwd = await p.mkdir("src/deep"); // relative host paths still resolve against the file's folder
    const r = await resolve(cwd, { name: "agent" });
    expect(r.projectDir).toBe(p.dir);
    expect(r.configFile).toBe(path.join(p.dir, "microsandbox.toml"));
    expect(r.sandbox).toEqual({
      name: "agent",
      image: "file/agent",
      memory: 900,
      cpus: 3,
      volumes: [
        { host: path.join(p.dir, "agent-shared"), guest: "/shared", readonly: false },
        { host: path.join(p.dir, "d-only"), guest: "/d-only", readonly: false },
        { host: path.join(p.dir, "workspace"), guest: "/workspace", readonly: false },
      ],
      ports: ["1000:1000"],
      envs: ["FROM_DEFAULTS=d", "OVERRIDDEN=sandbox", "ROLE=agent"],
      dependsOn: ["db"],
      workdir: "/workspace",
      shell: "/bin/bash",
      scripts: { setup: "echo setup" },
    });
    // `create = true` in the file made the workspace folder.
    expect((await stat(path.join(p.dir, "workspace"))).isDirectory()).toBe(true);
  });

  it("call options beat the file; volumes merge by guest path with the call winning", async () => {
    const p = await project();
    const r = await resolve(p.dir, {
      name: "agent",
      image: "call/image",
      memory: 128,
      cpus: 1.6,
      ports: ["9:9"],
      workdir: "/call",
      envs: ["OVERRIDDEN=call", "NEW=1"],
      dependsOn: [],
      scripts: { setup: "echo call", more: "x" },
      exec: "go",
      volumes: ["./call-shared:/shared", { host: "extra", guest: "/extra", readonly: true }],
    });
    expect(r.sandbox).toMatchObject({
      image: "call/image",
      memory: 128,
      cpus: 2,
      ports: ["9:9"],
      workdir: "/call",
      shell: "/bin/bash",
      dependsOn: [],
      exec: "go",
      scripts: { setup: "echo call", more: "x" },
      envs: ["FROM_DEFAULTS=d", "ROLE=agent", "OVERRIDDEN=call", "NEW=1"],
    });
    expect(r.sandbox.volumes).toEqual([
      { host: path.join(p.dir, "d-only"), guest: "/d-only", readonly: false },
      { host: path.join(p.dir, "workspace"), guest: "/workspace", readonly: false },
      { host: path.join(p.dir, "call-shared"), guest: "/shared", readonly: false },
      { host: path.join(p.dir, "extra"), guest: "/extra", readonly: true },
    ]);
  });

  it("a name the file does not declare gets [defaults] and built-ins", async () => {
    const p = await project();
    const r = await resolve(p.dir, { name: "other" });
    expect(r.sandbox).toMatchObject({ name: "other", image: "defaults/image", memory: 700, cpus: 3, dependsOn: [] });
  });

  it("without a file: built-in defaults, image by kind, a generated sandbox-xxxxxxxx name, projectDir = cwd", async () => {
    const p = await tempProject();
    const py = await resolve(p.dir, {});
    expect(py.projectDir).toBe(p.dir);
    expect(py.configFile).toBeUndefined();
    expect(py.sandbox).toEqual({
      name: expect.stringMatching(/^sandbox-[0-9a-f]{8}$/),
      image: "microsandbox/python",
      memory: 512,
      cpus: 1,
      volumes: [],
      ports: [],
      envs: [],
      dependsOn: [],
    });
    const node = await resolve(p.dir, {}, {}, "node");
    expect(node.sandbox.image).toBe("microsandbox/node");
    expect(node.sandbox.name).not.toBe(py.sandbox.name);
    expect(py.server).toEqual({ url: "http://127.0.0.1:5555" });
  });

  it("server url: call > MSB_SERVER_URL > [server] url; key: call > MSB_API_KEY > api_key_env", async () => {
    const p = await project();
    const env = { MSB_SERVER_URL: "http://env-host:1/", MSB_API_KEY: "msb_env", MY_KEY_VAR: "msb_named" };
    expect((await resolve(p.dir, {}, env)).server).toEqual({ url: "http://env-host:1", apiKey: "msb_env" });
    expect((await resolve(p.dir, { serverUrl: "https://call:2", apiKey: "msb_call" }, env)).server).toEqual({
      url: "https://call:2",
      apiKey: "msb_call",
    });
    expect((await resolve(p.dir, {}, { MY_KEY_VAR: "msb_named" })).server).toEqual({ url: "http://file-host:7000", apiKey: "msb_named" });
    expect((await resolve(p.dir, {}, { MSB_API_KEY: "" })).server).toEqual({ url: "http://file-host:7000" });
  });

  it("configPath points at a file elsewhere; that file's folder becomes the project dir", async () => {
    const p = await project();
    await p.write("alt/microsandbox.toml", '[sandboxes.agent]\nimage = "alt"\nvolumes = ["./w:/w"]\n');
    await p.mkdir("alt/w");
    const r = await resolve(p.dir, { name: "agent", configPath: "alt/microsandbox.toml" });
    expect(r.projectDir).toBe(path.join(p.dir, "alt"));
    expect(r.sandbox.volumes).toEqual([{ host: path.join(p.dir, "alt", "w"), guest: "/w", readonly: false }]);
  });
});

describe("resolveSandbox refuses bad input before anything is sent", () => {
  it("a call script named start with a microsandbox image", async () => {
    const p = await tempProject();
    const err = await resolve(p.dir, { scripts: { start: "x" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toMatch(/script named "start" would replace the portal/);
  });

  it("an invalid config file (ConfigError with every issue)", async () => {
    const p = await tempProject();
    await p.write("microsandbox.toml", "[sandboxes.a]\nmemory = 0\ncpus = 0\n");
    const err = await resolve(p.dir, { name: "a" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => `${i.line}:${i.column} ${i.keyPath}`)).toEqual(["2:10 sandboxes.a.memory", "3:8 sandboxes.a.cpus"]);
  });

  it("a bad MSB_SERVER_URL names the variable", async () => {
    const p = await tempProject();
    await expect(resolve(p.dir, {}, { MSB_SERVER_URL: "nonsense" })).rejects.toThrow(/\(from MSB_SERVER_URL\)/);
  });

  it("duplicate guest paths among call volumes are reported, not merged away", async () => {
    const p = await tempProject();
    await p.mkdir("a");
    await p.mkdir("b");
    const err = await resolve(p.dir, { volumes: ["./a:/w", "./b:/w"] }).catch((e: unknown) => e);
    expect((err as MsbvError).code).toBe(ErrorCodes.INVALID_VOLUME);
    expect((err as Error).message).toContain("duplicate guest path /w");
  });

  it("host paths outside the project need [policy] allow or allowHostPaths", async () => {
    const p = await tempProject();
    const outside = await tempProject();
    await p.write("proj/microsandbox.toml", "");
    const cwd = path.join(p.dir, "proj");
    const denied = await resolve(cwd, { volumes: [`${outside.dir}:/o`] }).catch((e: unknown) => e);
    expect((denied as MsbvError).code).toBe(ErrorCodes.HOST_PATH_DENIED);
    const viaCall = await resolve(cwd, { volumes: [`${outside.dir}:/o`], allowHostPaths: [outside.dir] });
    expect(viaCall.sandbox.volumes[0]?.host).toBe(outside.dir);
    await p.write("proj/microsandbox.toml", `[policy]\nallow = [${JSON.stringify(outside.dir)}]\n`);
    const viaFile = await resolve(cwd, { volumes: [`${outside.dir}:/o`] });
    expect(viaFile.sandbox.volumes[0]?.host).toBe(outside.dir);
  });

  it("createVolumeDirs creates missing host folders; without it a missing folder is an error", async () => {
    const p = await tempProject();
    await expect(resolve(p.dir, { volumes: ["./new:/new"] })).rejects.toThrow(/does not exist/);
    const r = await resolve(p.dir, { volumes: ["./new:/new"], createVolumeDirs: true });
    expect(r.sandbox.volumes[0]?.host).toBe(path.join(p.dir, "new"));
    expect((await stat(path.join(p.dir, "new"))).isDirectory()).toBe(true);
  });
});
