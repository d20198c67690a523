import { describe, expect, it } from "vitest";
import { toWireStartConfig } from "../../../src/backend/rpc-wire.js";
import type { ResolvedSandboxConfig } from "../../../src/config/index.js";

const minimal: ResolvedSandboxConfig = {
  name: "a",
  image: "microsandbox/python",
  memory: 512,
  cpus: 1,
  volumes: [],
  ports: [],
  envs: [],
  dependsOn: [],
};

describe("toWireStartConfig", () => {
  it("omits empty lists (never null) and always sends image, memory and cpus", () => {
    const wire = toWireStartConfig(minimal);
    expect(wire).toEqual({ image: "microsandbox/python", memory: 512, cpus: 1 });
    expect(JSON.stringify(wire)).not.toContain("null");
  });

  it("sends every field in wire form: host:guest volumes, depends_on snake_case", () => {
    const wire = toWireStartConfig({
      ...minimal,
      volumes: [{ host: "/home/u/p/workspace", guest: "/workspace", readonly: false }],
      ports: ["8080:80"],
      envs: ["A=1"],
      dependsOn: ["db"],
      workdir: "/workspace",
      shell: "/bin/sh",
      scripts: { setup: "echo hi" },
      exec: "python",
    });
    expect(wire).toEqual({
      image: "microsandbox/python",
      memory: 512,
      cpus: 1,
      volumes: ["/home/u/p/workspace:/workspace"],
      ports: ["8080:80"],
      envs: ["A=1"],
      depends_on: ["db"],
      workdir: "/workspace",
      shell: "/bin/sh",
      scripts: { setup: "echo hi" },
      exec: "python",
    });
    expect(wire).not.toHaveProperty("dependsOn");
  });

  it("readonly volumes: refused unless advertised; then guest paths in readonly_volumes, the strings unchanged", () => {
    const volumes = [
      { host: "/p/ws", guest: "/w", readonly: false },
      { host: "/p/tools", guest: "/w/tools", readonly: true },
    ];
    expect(() => toWireStartConfig({ ...minimal, volumes })).toThrow(expect.objectContaining({ code: "MSBV_READONLY_UNSUPPORTED" }));
    const wire = toWireStartConfig({ ...minimal, volumes }, { readonlyVolumes: true });
    expect(wire.volumes).toEqual(["/p/ws:/w", "/p/tools:/w/tools"]);
    expect(wire.readonly_volumes).toEqual(["/w/tools"]);
    expect(JSON.stringify(wire)).not.toContain(":ro");
  });

  it("omits an empty scripts table", () => {
    expect(toWireStartConfig({ ...minimal, scripts: {} })).not.toHaveProperty("scripts");
  });
});
