import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// The upstream-style example programs in ./examples run unchanged (only the import differs) against
// the real dev server. They read MSB_SERVER_URL like upstream code; MSB_CONFIG points the config
// lookup at a temp project so nothing is written into the repository.

let fx: DevServerFixture;

beforeAll(async () => {
  fx = await startFixture();
  vi.stubEnv("MSB_SERVER_URL", fx.url);
  vi.stubEnv("MSB_CONFIG", fx.configPath);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await fx?.close();
});

// Static imports so the bundler sees each file; importing a module runs it (top-level `await main()`).
const examples = {
  "repl-python": () => import("./examples/repl-python.js"),
  "repl-node": () => import("./examples/repl-node.js"),
  command: () => import("./examples/command.js"),
  metrics: () => import("./examples/metrics.js"),
};

async function runExample(file: keyof typeof examples): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
  try {
    await examples[file]();
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}

describe("upstream-style examples against the dev server", () => {
  it("python REPL keeps state: Hello Python!", async () => {
    const out = await runExample("repl-python");
    expect(out.split("\n")).toEqual([
      "Hello Python!",
      "x = 42",
      "y = [0, 1, 4, 9, 16]",
      "Error has ZeroDivisionError: true true",
      "Version chained: true",
    ]);
    expect(fx.received.map((r) => r.sandbox)).toContain("example-python");
    const explicit = fx.received.find((r) => r.sandbox === "example-python-explicit");
    expect(explicit?.config).toMatchObject({ memory: 1024, cpus: 2 });
  });

  it("node REPL keeps state: Hello JavaScript!", async () => {
    const out = await runExample("repl-node");
    expect(out).toContain("Hello JavaScript!");
    expect(out).toContain("Node version check: true");
    expect(out).toContain("Stdout empty: true");
    expect(out).toContain("Stderr: Caught error: undefinedVariable is not defined");
    expect(out).toContain("Has error: true");
    expect(out).toContain("Modules: Hello file linux");
    expect(out).toContain("Sum: 15");
  });

  it("command: ls -la /, a failing exit code, a shell pipe", async () => {
    const out = await runExample("command");
    expect(out).toContain("Command: ls -la /");
    expect(out).toContain("Exit code: 0");
    expect(out).toContain("Success: true");
    expect(out).toMatch(/\busr\b/);
    expect(out).toContain("Failing exit code: 3");
    expect(out).toContain("Failing success: false");
    expect(out).toContain("Failing stderr: to-stderr");
    expect(out).toContain("Piped: HELLO");
    expect(out).toContain("Echo: Hello from a command!");
    expect(out).toMatch(/Uname: Linux example-command /);
    expect(out).toContain("ls exit code: 2 success: false");
    expect(out).toContain("ls stderr: ls: cannot access '/nonexistent': No such file or directory");
    expect(out).toMatch(/Missing command: .*nonexistentcommand.*executable not found/);
    expect(out).toMatch(/Timed out: .*timed out after 2 seconds/);
    expect(out).toContain("After timeout: Still working!");
    expect(out).toContain("File: file content");
    expect(out).toContain("Pipeline: 2");
    expect(out).toContain("Script: args: ['arg1', 'arg2']");
    expect(out).toContain("Hostname: example-command-explicit");
    expect(out).toContain("Date ok: true");
  });

  it("metrics: cpu/memory/disk/isRunning and the not-started error", async () => {
    const out = await runExample("metrics");
    expect(out).toMatch(/CPU Usage: (Not available|[\d.]+%)/);
    expect(out).toMatch(/Memory Usage: .+ MiB/);
    expect(out).toContain("Is Running: true");
    expect(out).toContain("Sandbox: example-metrics");
    expect(out).toContain("  Running: true");
    expect(out).toContain("Expected error: Sandbox is not started. Call start() first.");
  });
});
