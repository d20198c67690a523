import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parseSeconds } from "../../../src/cli/commands/seconds.js";
import { statusRows } from "../../../src/cli/commands/status.js";
import { applyGlobalsToEnv } from "../../../src/cli/context.js";
import { checkNode } from "../../../src/cli/doctor-checks.js";
import { kindOfImage } from "../../../src/cli/target.js";

describe("kindOfImage", () => {
  it("runs node images as node and everything else as python", () => {
    expect(kindOfImage("microsandbox/node")).toBe("node");
    expect(kindOfImage("microsandbox/node:20")).toBe("node");
    expect(kindOfImage("localhost:5000/microsandbox/node:latest")).toBe("node");
    expect(kindOfImage("docker.io/microsandbox/node@sha256:abc")).toBe("node");
    expect(kindOfImage("microsandbox/python")).toBe("python");
    expect(kindOfImage("localhost:5000/nodejs")).toBe("python");
    expect(kindOfImage("")).toBe("python");
  });
});

describe("statusRows", () => {
  it("sorts server rows, marks declared ones, and lists declared sandboxes the server does not know", () => {
    const rows = statusRows(
      [
        { name: "zeta", running: true, cpu_usage: 1.5, memory_usage: 40, disk_usage: 100 },
        { name: "agent", running: false, cpu_usage: null, memory_usage: null, disk_usage: null },
      ],
      ["agent", "later"],
    );
    expect(rows.map((r) => [r.name, r.running, r.declared, r.onServer])).toEqual([
      ["agent", false, true, true],
      ["zeta", true, false, true],
      ["later", false, true, false],
    ]);
    expect(rows[1]).toMatchObject({ cpuUsage: 1.5, memoryUsage: 40, diskUsage: 100 });
  });
});

describe("applyGlobalsToEnv", () => {
  it("hands --config (made absolute) and --server to the library as MSB_CONFIG / MSB_SERVER_URL", () => {
    const env: NodeJS.ProcessEnv = { MSB_SERVER_URL: "http://old:1" };
    applyGlobalsToEnv({ config: "sub/microsandbox.toml", server: "http://127.0.0.1:9" }, env);
    expect(env.MSB_CONFIG).toBe(`${process.cwd()}/sub/microsandbox.toml`);
    expect(env.MSB_SERVER_URL).toBe("http://127.0.0.1:9");
    const untouched: NodeJS.ProcessEnv = { MSB_SERVER_URL: "http://kept:1" };
    applyGlobalsToEnv({}, untouched);
    expect(untouched).toEqual({ MSB_SERVER_URL: "http://kept:1" });
  });
});

describe("parseSeconds", () => {
  it("accepts positive numbers and refuses the rest as a commander usage error", () => {
    expect(parseSeconds("30")).toBe(30);
    expect(parseSeconds("1.5")).toBe(1.5);
    for (const bad of ["0", "-1", "abc", ""]) expect(() => parseSeconds(bad)).toThrow(InvalidArgumentError);
  });
});

describe("checkNode", () => {
  it("requires Node 22 or newer", () => {
    expect(checkNode("22.0.0").status).toBe("ok");
    expect(checkNode("24.1.0").status).toBe("ok");
    const old = checkNode("20.19.0");
    expect(old).toMatchObject({ status: "fail", required: true });
    expect(old.fix).toMatch(/Node 22/);
  });
});
