import { describe, expect, it } from "vitest";
import { toWireStartConfig, type ResolvedSandboxConfig } from "../../../src/config/index.js";
import { suggestKey } from "../../../src/config/suggest.js";

const minimal: ResolvedSandboxConfig = {
  name: "a", image: "microsandbox/python", memory: 512, cpus: 1, volumes: [], ports: [], envs: [], dependsOn: [],
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
      ports: ["8080:80"], envs: ["A=1"], dependsOn: ["db"], workdir: "/workspace", shell: "/bin/sh",
      scripts: { setup: "echo hi" }, exec: "python",
    });
    expect(wire).toEqual({
      image: "microsandbox/python", memory: 512, cpus: 1, volumes: ["/home/u/p/workspace:/workspace"],
      ports: ["8080:80"], envs: ["A=1"], depends_on: ["db"], workdir: "/workspace", shell: "/bin/sh",
      scripts: { setup: "echo hi" }, exec: "python",
    });
    expect(wire).not.toHaveProperty("dependsOn");
  });

  it("omits an empty scripts table", () => {
    expect(toWireStartConfig({ ...minimal, scripts: {} })).not.toHaveProperty("scripts");
  });
});

describe("suggestKey", () => {
  it("suggests the closest key within distance 2, ignoring case and -/_", () => {
    expect(suggestKey("memroy", ["image", "memory"])).toBe("memory");
    expect(suggestKey("depends-on", ["depends_on", "ports"])).toBe("depends_on");
    expect(suggestKey("VOLUME", ["volumes"])).toBe("volumes");
    expect(suggestKey("flavour", ["image", "memory"])).toBeUndefined();
  });
});
