import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../../helpers/server-harness.js";

// Wire conformance, part 2: the five methods (docs/protocol.md#sandbox-names to #command-run) in dev mode with a fake runtime. Steps run
// in order and share one server, because the legacy semantics depend on earlier calls
// (Sandboxfile exists or not, sandbox started or not).

// The legacy body plus our `data` (legacy clients ignore it): `internal` keeps the cause in the log.
const GENERIC_500 = { error: "Internal server error", code: 5002, data: { kind: "internal" } };
const NOT_STARTED_500 = {
  error: "Internal server error",
  code: 5002,
  data: { kind: "not_started", cause: expect.stringMatching(/is not running/), hint: expect.any(String) },
};
const v400 = (error: string) => ({ error, code: 2001 });
const ok = (result: unknown, id: unknown = "1") => ({ jsonrpc: "2.0", result, id });
const ns = { namespace: "default" };
const image = { image: "microsandbox/python", memory: 512, cpus: 1 };

interface Step {
  name: string;
  method: string;
  params?: unknown;
  status: number;
  json?: unknown;
  /** For messages whose tail is ours (the serde-like detail): exact prefix + the field named. */
  errorStartsWith?: string;
  errorMentions?: string;
  /** Text that must appear in the server log (real cause of a generic 500). */
  logged?: string;
}

const steps: Step[] = [
  // Name validation order (docs/protocol.md#sandbox-names)
  { name: "empty name", method: "sandbox.start", params: { sandbox: "", ...ns }, status: 400, json: v400("Sandbox name cannot be empty") },
  {
    name: "64 chars",
    method: "sandbox.start",
    params: { sandbox: "a".repeat(64) },
    status: 400,
    json: v400("Sandbox name cannot exceed 63 characters"),
  },
  {
    name: "64 bytes (32 × é) beats the charset rule",
    method: "sandbox.stop",
    params: { sandbox: "é".repeat(32) },
    status: 400,
    json: v400("Sandbox name cannot exceed 63 characters"),
  },
  {
    name: "dot",
    method: "sandbox.start",
    params: { sandbox: "a.b" },
    status: 400,
    json: v400("Sandbox name can only contain alphanumeric characters, hyphens, or underscores"),
  },
  {
    name: "leading hyphen",
    method: "sandbox.start",
    params: { sandbox: "-bad" },
    status: 400,
    json: v400("Sandbox name must start with an alphanumeric character"),
  },
  {
    name: "leading underscore",
    method: "sandbox.stop",
    params: { sandbox: "_x" },
    status: 400,
    json: v400("Sandbox name must start with an alphanumeric character"),
  },
  {
    name: "metrics validates a given name",
    method: "sandbox.metrics.get",
    params: { sandbox: "a b" },
    status: 400,
    json: v400("Sandbox name can only contain alphanumeric characters, hyphens, or underscores"),
  },
  // Params type errors
  { name: "start null params", method: "sandbox.start", params: null, status: 400, errorStartsWith: "Invalid params for sandbox.start: " },
  {
    name: "start without sandbox",
    method: "sandbox.start",
    params: { ...ns },
    status: 400,
    errorStartsWith: "Invalid params for sandbox.start: ",
    errorMentions: "sandbox",
  },
  {
    name: "fractional cpus",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { ...image, cpus: 1.5 } },
    status: 400,
    errorStartsWith: "Invalid params for sandbox.start: ",
    errorMentions: "cpus",
  },
  {
    name: "cpus over 255",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { ...image, cpus: 256 } },
    status: 400,
    errorStartsWith: "Invalid params for sandbox.start: ",
    errorMentions: "cpus",
  },
  {
    name: "string memory",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { ...image, memory: "512" } },
    status: 400,
    errorStartsWith: "Invalid params for sandbox.start: ",
    errorMentions: "memory",
  },
  {
    name: "non-string in volumes",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { ...image, volumes: [1] } },
    status: 400,
    errorStartsWith: "Invalid params for sandbox.start: ",
    errorMentions: "volumes",
  },
  {
    name: "type error counts even without image",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { envs: "A=1" } },
    status: 400,
    errorStartsWith: "Invalid params for sandbox.start: ",
    errorMentions: "envs",
  },
  {
    name: "numeric image",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { image: 5 } },
    status: 400,
    errorStartsWith: "Invalid params for sandbox.start: ",
    errorMentions: "image",
  },
  { name: "stop without sandbox", method: "sandbox.stop", params: {}, status: 400, errorStartsWith: "Invalid params for sandbox.stop: " },
  {
    name: "metrics null params",
    method: "sandbox.metrics.get",
    params: null,
    status: 400,
    errorStartsWith: "Invalid params for sandbox.metrics.get: ",
  },
  // Before any Sandboxfile exists
  {
    name: "start without config, no Sandboxfile",
    method: "sandbox.start",
    params: { sandbox: "sb1", ...ns },
    status: 400,
    json: v400("No configuration provided and no existing configuration found for sandbox 'sb1'"),
  },
  {
    name: "config without image is ignored",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { volumes: ["data:/data"] } },
    status: 400,
    json: v400("No configuration provided and no existing configuration found for sandbox 'sb1'"),
  },
  {
    name: "null image is ignored",
    method: "sandbox.start",
    params: { sandbox: "sb1", config: { image: null } },
    status: 400,
    json: v400("No configuration provided and no existing configuration found for sandbox 'sb1'"),
  },
  {
    name: "stop, no Sandboxfile",
    method: "sandbox.stop",
    params: { sandbox: "sb1", ...ns },
    status: 400,
    json: v400("Configuration file not found"),
  },
  { name: "metrics, no Sandboxfile", method: "sandbox.metrics.get", params: { ...ns }, status: 500, json: GENERIC_500, logged: "does not exist yet" },
  // Start, with Gen B null lists
  {
    name: "start sb1",
    method: "sandbox.start",
    params: { sandbox: "sb1", ...ns, config: { ...image, volumes: null, ports: null, envs: ["A=1"], scripts: null } },
    status: 200,
    json: ok("Sandbox sb1 started successfully"),
  },
  {
    name: "start other name without config",
    method: "sandbox.start",
    params: { sandbox: "other" },
    status: 400,
    json: v400("Sandbox 'other' not found in existing configuration"),
  },
  {
    name: "restart while running is a no-op success",
    method: "sandbox.start",
    params: { sandbox: "sb1" },
    status: 200,
    json: ok("Sandbox sb1 started successfully"),
  },
  // Metrics
  {
    name: "metrics of sb1",
    method: "sandbox.metrics.get",
    params: { sandbox: "sb1", ...ns },
    status: 200,
    json: ok({ sandboxes: [{ name: "sb1", running: true, cpu_usage: 1.5, memory_usage: 12, disk_usage: 4096 }] }),
  },
  {
    name: "metrics of an unknown name",
    method: "sandbox.metrics.get",
    params: { sandbox: "ghost" },
    status: 500,
    json: GENERIC_500,
    logged: "ghost is not in",
  },
  // REPL
  {
    name: "repl params not an object",
    method: "sandbox.repl.run",
    params: [1],
    status: 400,
    json: v400("Request parameters must be an object containing 'sandbox'"),
  },
  {
    name: "repl without sandbox",
    method: "sandbox.repl.run",
    params: { code: "1", language: "python" },
    status: 400,
    json: v400("Missing required 'sandbox' parameter for portal request"),
  },
  {
    name: "repl never started",
    method: "sandbox.repl.run",
    params: { sandbox: "never", code: "1", language: "python" },
    status: 500,
    json: NOT_STARTED_500,
    logged: '"never" is not running',
  },
  {
    name: "repl language echoed as sent",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", ...ns, code: "x", language: "Python" },
    status: 200,
    json: ok({ language: "Python", output: [{ stream: "stdout", text: "python:x" }], status: "success" }),
  },
  {
    name: "repl javascript → node",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", code: "y", language: "JavaScript", timeout: 5 },
    status: 200,
    json: ok({ language: "JavaScript", output: [{ stream: "stdout", text: "node:y" }], status: "success" }),
  },
  {
    name: "repl nodejs → node",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", code: "z", language: "nodejs" },
    status: 200,
    json: ok({ language: "nodejs", output: [{ stream: "stdout", text: "node:z" }], status: "success" }),
  },
  {
    name: "repl unsupported language",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", code: "1", language: "ruby" },
    status: 500,
    json: GENERIC_500,
    logged: "unsupported language 'ruby'",
  },
  {
    name: "repl fractional timeout",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", code: "1", language: "python", timeout: 1.5 },
    status: 500,
    json: GENERIC_500,
    logged: "'timeout'",
  },
  {
    name: "repl missing code",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", language: "python" },
    status: 500,
    json: GENERIC_500,
    logged: "'code'",
  },
  {
    name: "repl runtime failure",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", code: "fail", language: "python" },
    status: 500,
    json: GENERIC_500,
    logged: "fake repl crashed",
  },
  // Commands
  {
    name: "command exit 3",
    method: "sandbox.command.run",
    params: { sandbox: "sb1", ...ns, command: "exit", args: ["3"] },
    status: 200,
    json: ok({ args: ["3"], command: "exit", exit_code: 3, output: [{ stream: "stderr", text: "bye" }], success: false }),
  },
  {
    name: "command default args",
    method: "sandbox.command.run",
    params: { sandbox: "sb1", command: "ls" },
    status: 200,
    json: ok({ args: [], command: "ls", exit_code: 0, output: [{ stream: "stdout", text: "" }], success: true }),
  },
  {
    name: "command spawn failure",
    method: "sandbox.command.run",
    params: { sandbox: "sb1", command: "missing" },
    status: 500,
    json: GENERIC_500,
    logged: "spawn missing ENOENT",
  },
  {
    name: "command never started",
    method: "sandbox.command.run",
    params: { sandbox: "never-started", command: "ls" },
    status: 500,
    json: NOT_STARTED_500,
  },
  {
    name: "command without sandbox",
    method: "sandbox.command.run",
    params: { command: "ls" },
    status: 400,
    json: v400("Missing required 'sandbox' parameter for portal request"),
  },
  // Stop
  { name: "stop unknown name", method: "sandbox.stop", params: { sandbox: "ghost" }, status: 500, json: GENERIC_500, logged: "ghost is not in" },
  { name: "stop sb1", method: "sandbox.stop", params: { sandbox: "sb1", ...ns }, status: 200, json: ok("Sandbox sb1 stopped successfully") },
  {
    name: "stop sb1 again (known, not running)",
    method: "sandbox.stop",
    params: { sandbox: "sb1" },
    status: 200,
    json: ok("Sandbox sb1 stopped successfully"),
  },
  {
    name: "metrics of a stopped sandbox",
    method: "sandbox.metrics.get",
    params: {},
    status: 200,
    json: ok({ sandboxes: [{ name: "sb1", running: false, cpu_usage: null, memory_usage: null, disk_usage: null }] }),
  },
  {
    name: "repl after stop",
    method: "sandbox.repl.run",
    params: { sandbox: "sb1", code: "1", language: "python" },
    status: 500,
    json: NOT_STARTED_500,
  },
  // Reuse of the stored entry
  {
    name: "start sb1 again without config reuses the entry",
    method: "sandbox.start",
    params: { sandbox: "sb1" },
    status: 200,
    json: ok("Sandbox sb1 started successfully"),
  },
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ dev: true });
});
afterAll(async () => h.close());

describe("wire conformance: methods", () => {
  it("runs every step in order", async () => {
    for (const step of steps) {
      const logsBefore = h.logs.length;
      const reply = await h.rpc(call(step.method, step.params));
      expect({ step: step.name, status: reply.status, body: reply.text }).toMatchObject({ step: step.name, status: step.status });
      if (step.json !== undefined) expect({ step: step.name, body: reply.json }).toStrictEqual({ step: step.name, body: step.json });
      if (step.errorStartsWith !== undefined) {
        const body = reply.json as { error: string; code: number };
        expect(body.code, step.name).toBe(2001);
        expect(body.error.startsWith(step.errorStartsWith), `${step.name}: ${body.error}`).toBe(true);
        if (step.errorMentions) expect(body.error, step.name).toContain(step.errorMentions);
      }
      if (step.logged !== undefined) {
        expect(h.logs.slice(logsBefore).join("\n"), step.name).toContain(step.logged);
      }
    }
  });

  it("passed the stored entry to the runtime on reuse, and recorded every start as received", () => {
    const starts = h.runtime.started.filter((s) => s.name === "sb1");
    expect(starts).toHaveLength(2);
    expect(starts[1]).toStrictEqual({ name: "sb1", image: "microsandbox/python", memory: 512, cpus: 1, volumes: [], envs: ["A=1"] });
    const sb1 = h.server.received.filter((r) => r.sandbox === "sb1");
    expect(sb1.map((r) => r.config)).toContainEqual({ ...image, volumes: null, ports: null, envs: ["A=1"], scripts: null });
    expect(h.server.received.some((r) => r.sandbox === "-bad")).toBe(true);
  });

  it("passes the repl timeout and engine to the runtime", () => {
    expect(h.runtime.replCalls).toContainEqual({ name: "sb1", language: "node", code: "y", timeout: 5 });
  });
});
