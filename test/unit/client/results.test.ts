import { describe, expect, it } from "vitest";
import { CommandExecution } from "../../../src/client/command-execution.js";
import { Execution } from "../../../src/client/execution.js";
import { SandboxOptions } from "../../../src/client/sandbox-options.js";

describe("Execution (upstream semantics)", () => {
  it("joins each stream with \\n and trims both ends", async () => {
    const e = new Execution({
      language: "python",
      status: "success",
      output: [
        { stream: "stdout", text: "  Hello" },
        { stream: "stderr", text: "warn" },
        { stream: "stdout", text: "World  " },
        { stream: "stdout", text: "" },
      ],
    });
    expect(await e.output()).toBe("Hello\nWorld");
    expect(await e.error()).toBe("warn");
    expect(e.hasError()).toBe(true);
    expect(e.language).toBe("python");
    expect(e.status).toBe("success");
  });

  it("hasError: blank stderr lines do not count; error/exception status does", () => {
    expect(new Execution({ status: "success", output: [{ stream: "stderr", text: "  " }] }).hasError()).toBe(false);
    expect(new Execution({ status: "error", output: [] }).hasError()).toBe(true);
    expect(new Execution({ status: "exception" }).hasError()).toBe(true);
  });

  it("defaults to unknown status/language and empty output", async () => {
    const e = new Execution();
    expect(e.status).toBe("unknown");
    expect(e.language).toBe("unknown");
    expect(await e.output()).toBe("");
    expect(e.hasError()).toBe(false);
  });
});

describe("CommandExecution", () => {
  it("exposes exit code, success, command, args and trimmed streams", async () => {
    const c = new CommandExecution({
      command: "sh",
      args: ["-c", "exit 3"],
      exit_code: 3,
      success: false,
      output: [
        { stream: "stdout", text: "a" },
        { stream: "stderr", text: "b " },
      ],
    });
    expect(c.exitCode).toBe(3);
    expect(c.success).toBe(false);
    expect(c.command).toBe("sh");
    expect(c.args).toEqual(["-c", "exit 3"]);
    expect(await c.output()).toBe("a");
    expect(await c.error()).toBe("b");
  });

  it("defaults: exitCode -1, success false", () => {
    const c = new CommandExecution();
    expect(c.exitCode).toBe(-1);
    expect(c.success).toBe(false);
    expect(c.args).toEqual([]);
  });
});

describe("SandboxOptions.builder()", () => {
  it("builds the same object as the literal form, upstream method names", () => {
    const built = SandboxOptions.builder()
      .name("sb1")
      .serverUrl("http://127.0.0.1:5555")
      .apiKey("k")
      .image("microsandbox/python")
      .memory(1024)
      .cpus(2)
      .volumes(["./ws:/workspace", { host: "./data", guest: "/data", create: true }])
      .ports(["8080:80"])
      .envs(["A=1"])
      .dependsOn(["db"])
      .workdir("/workspace")
      .shell("/bin/bash")
      .scripts({ hello: "echo hi" })
      .exec("python app.py")
      .timeout(60)
      .build();
    const literal: SandboxOptions = {
      name: "sb1",
      serverUrl: "http://127.0.0.1:5555",
      apiKey: "k",
      image: "microsandbox/python",
      memory: 1024,
      cpus: 2,
      volumes: ["./ws:/workspace", { host: "./data", guest: "/data", create: true }],
      ports: ["8080:80"],
      envs: ["A=1"],
      dependsOn: ["db"],
      workdir: "/workspace",
      shell: "/bin/bash",
      scripts: { hello: "echo hi" },
      exec: "python app.py",
      timeout: 60,
    };
    expect(built).toEqual(literal);
  });

  it("build() returns a copy", () => {
    const b = SandboxOptions.builder().name("a");
    const first = b.build();
    b.name("b");
    expect(first.name).toBe("a");
    expect(b.build().name).toBe("b");
  });
});
