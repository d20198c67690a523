import { describe, expect, it } from "vitest";
import { checkCallOptions, type SandboxCallOptions } from "../../../src/config/index.js";
import { ErrorCodes, InvalidOptionError } from "../../../src/errors/index.js";

function rejected(options: unknown): InvalidOptionError {
  try {
    checkCallOptions(options as SandboxCallOptions);
  } catch (e) {
    if (e instanceof InvalidOptionError) return e;
    throw e;
  }
  throw new Error("expected the options to be refused");
}

const bad: { what: string; options: Record<string, unknown>; says: string }[] = [
  { what: "empty name", options: { name: "" }, says: "invalid sandbox option name: sandbox name cannot be empty" },
  { what: "name with a slash", options: { name: "a/b" }, says: 'may only contain letters, digits, "-" and "_"' },
  { what: "name starting with _", options: { name: "_a" }, says: "must start with a letter or digit" },
  { what: "name of 64 chars", options: { name: "a".repeat(64) }, says: "longer than 63" },
  { what: "memory 0", options: { memory: 0 }, says: "memory must be a whole number of MiB greater than 0, got 0" },
  { what: "memory fractional", options: { memory: 1.5 }, says: "got 1.5" },
  { what: "memory as string", options: { memory: "512" }, says: 'got "512"' },
  { what: "cpus rounding to 0", options: { cpus: 0.4 }, says: "got 0 (after rounding 0.4)" },
  { what: "cpus 256", options: { cpus: 256 }, says: "from 1 to 255, got 256" },
  { what: "cpus NaN", options: { cpus: Number.NaN }, says: "got NaN" },
  { what: "env without =", options: { envs: ["FOO"] }, says: 'envs[0]: env entry "FOO" has no "="' },
  { what: "env with empty name", options: { envs: ["=x"] }, says: 'environment variable name ""' },
  { what: "env with a newline", options: { envs: ["A=1\nB=2"] }, says: "NUL or newline" },
  { what: "env not a string", options: { envs: [1] }, says: "envs[0]" },
  { what: "port 0", options: { ports: ["0"] }, says: 'port "0"' },
  { what: "port 65536", options: { ports: ["8080:65536"] }, says: 'port "8080:65536"' },
  { what: "ports not an array", options: { ports: "8080" }, says: "ports: must be an array" },
  { what: "relative workdir", options: { workdir: "work" }, says: "must be an absolute path" },
  { what: "workdir with ..", options: { workdir: "/w/../x" }, says: 'must not contain ".."' },
  { what: "workdir with :", options: { workdir: "/w:x" }, says: 'must not contain ":"' },
  { what: "empty image", options: { image: "" }, says: "image cannot be empty" },
  { what: "image with a space", options: { image: "a b" }, says: "whitespace" },
  { what: "script name with slash", options: { scripts: { "a/b": "x" } }, says: 'script name "a/b"' },
  { what: "script name ..", options: { scripts: { "..": "x" } }, says: 'script name ".."' },
  { what: "script body not a string", options: { scripts: { a: 1 } }, says: 'script "a" must be a string' },
  { what: "dependsOn bad name", options: { dependsOn: ["a b"] }, says: "dependsOn[0]" },
  { what: "serverUrl not a URL", options: { serverUrl: "localhost:5555" }, says: "must start with http:// or https://" },
  { what: "serverUrl with credentials", options: { serverUrl: "http://u:p@h:1" }, says: "must not contain credentials" },
  { what: "timeout 0", options: { timeout: 0 }, says: "positive number of seconds" },
  { what: "volumes not an array", options: { volumes: "./w:/w" }, says: "volumes: must be an array" },
  { what: "createVolumeDirs not boolean", options: { createVolumeDirs: "yes" }, says: "must be true or false" },
];

describe("call options are checked strictly before anything is sent", () => {
  it.each(bad)("$what", ({ options, says }) => {
    const err = rejected(options);
    expect(err.code).toBe(ErrorCodes.INVALID_OPTION);
    expect(err.message).toContain(says);
    expect(err.hint).toBeTruthy();
  });

  it("reports every bad option at once, each with its fix", () => {
    const err = rejected({ name: "-x", memory: 0, ports: ["1:2:3"], envs: ["NOPE"] });
    expect(err.message).toContain("4 invalid sandbox options");
    for (const opt of ["name:", "memory:", "ports[0]:", "envs[0]:"]) expect(err.message).toContain(`  ${opt}`);
    expect(err.message.match(/\(fix: /g)).toHaveLength(4);
  });

  it("never echoes the API key", () => {
    const err = rejected({ apiKey: "msb_top secret", memory: 0 });
    expect(err.message).not.toContain("top secret");
    expect(JSON.stringify(err.details)).not.toContain("top secret");
  });

  it("rounds cpus like upstream JS (Math.round) and turns numeric ports into strings", () => {
    expect(checkCallOptions({ cpus: 1.4 }).cpus).toBe(1);
    expect(checkCallOptions({ cpus: 2.5 }).cpus).toBe(3);
    expect(checkCallOptions({ cpus: 0.5 }).cpus).toBe(1);
    expect(checkCallOptions({ ports: [8080 as unknown as string, "1:2"] }).ports).toEqual(["8080", "1:2"]);
  });

  it("treats an empty serverUrl or apiKey as not given, like upstream's `||`", () => {
    expect(checkCallOptions({ serverUrl: "", apiKey: "", name: "a" })).toEqual({ name: "a" });
  });

  it("accepts a complete, valid set of options unchanged", () => {
    const options: SandboxCallOptions = {
      serverUrl: "http://127.0.0.1:5555",
      name: "agent-1",
      apiKey: "msb_x",
      image: "microsandbox/python",
      memory: 1024,
      cpus: 2,
      volumes: ["./w:/w"],
      ports: ["8080:80"],
      envs: ["A=1", "EMPTY="],
      dependsOn: ["db"],
      workdir: "/w",
      shell: "/bin/bash",
      scripts: { "setup.sh": "echo" },
      exec: "run",
      timeout: 30,
      configPath: "x.toml",
      allowHostPaths: ["/data"],
      createVolumeDirs: true,
    };
    expect(checkCallOptions(options)).toEqual(options);
  });
});
