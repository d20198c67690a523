import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevServerError, SandboxStateError } from "../../../src/errors/index.js";
import { createRuntimeFixture, stdout, type RuntimeFixture } from "../../helpers/runtime-fixture.js";

describe("bwrap runtime commands, metrics and lifecycle", () => {
  let fx: RuntimeFixture;
  beforeAll(async () => {
    fx = await createRuntimeFixture();
    await fx.runtime.start(
      fx.spec("cmd", {
        envs: ["GREETING=hello=world", "EMPTY="],
        workdir: "/work/app",
        scripts: { hello: "echo from-script" },
        shell: "/bin/sh",
      }),
    );
  });
  afterAll(async () => {
    await fx?.dispose();
  });

  it("runs commands without a shell, with envs, workdir and exit codes", async () => {
    const result = await fx.runtime.runCommand("cmd", "sh", ["-c", "echo $GREETING; pwd; echo oops >&2; exit 3"]);
    expect(result.exitCode).toBe(3);
    expect(result.output.filter((l) => l.stream === "stdout").map((l) => l.text)).toEqual(["hello=world", "/work/app"]);
    expect(result.output.filter((l) => l.stream === "stderr").map((l) => l.text)).toEqual(["oops"]);
    const literal = await fx.runtime.runCommand("cmd", "echo", ["$HOME", "*"]);
    expect(literal).toEqual({ exitCode: 0, output: [{ stream: "stdout", text: "$HOME *" }] });
  });

  it("writes scripts to /.sandbox/scripts with the shell as shebang and mode 0750", async () => {
    const run = await fx.runtime.runCommand("cmd", "/.sandbox/scripts/hello", []);
    expect(run).toEqual({ exitCode: 0, output: [{ stream: "stdout", text: "from-script" }] });
    const stat = await fx.runtime.runCommand("cmd", "stat", ["-c", "%a", "/.sandbox/scripts/hello"]);
    expect(stdout(stat.output)).toBe("750");
    const head = await fx.runtime.runCommand("cmd", "head", ["-n", "1", "/.sandbox/scripts/hello"]);
    expect(stdout(head.output)).toBe("#!/bin/sh");
  });

  it("reports exit code 1 for a command killed by a signal, and stdin is empty", async () => {
    expect((await fx.runtime.runCommand("cmd", "sh", ["-c", "kill -9 $$"])).exitCode).toBe(1);
    expect(await fx.runtime.runCommand("cmd", "cat", [])).toEqual({ exitCode: 0, output: [] });
  });

  it("rejects a missing executable instead of returning 127", async () => {
    const error = await fx.runtime.runCommand("cmd", "definitely-not-a-command", []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevServerError);
    expect((error as Error).message).toContain("executable not found");
  });

  it("kills the whole process group on timeout and rejects", async () => {
    const error = await fx.runtime.runCommand("cmd", "sh", ["-c", "sleep 300 & echo $! > /tmp/child.pid; sleep 300"], 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevServerError);
    expect((error as Error).message).toContain("timed out after 1 seconds");
    // The background grandchild was in the same process group, so it is gone as well.
    const check = await fx.runtime.runCommand("cmd", "sh", ["-c", "kill -0 $(cat /tmp/child.pid) 2>/dev/null && echo alive || echo gone"]);
    expect(stdout(check.output)).toBe("gone");
  });

  it("reports metrics of a running sandbox and nulls for an unknown one", async () => {
    await fx.runtime.runCommand("cmd", "sh", ["-c", "head -c 5000 /dev/zero > $HOME/blob"]);
    const metrics = await fx.runtime.metrics("cmd");
    expect(metrics.running).toBe(true);
    expect(metrics.memoryMiB).toBeGreaterThan(0);
    expect(metrics.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(metrics.diskBytes).toBeGreaterThanOrEqual(5000);
    expect(await fx.runtime.metrics("nope")).toEqual({ running: false, cpuPercent: null, memoryMiB: null, diskBytes: null });
  });

  it("leaves a running sandbox alone on a second start, and keeps /home across stop and start", async () => {
    await fx.runtime.runRepl("cmd", "python", "marker = 'same interpreter'");
    await fx.runtime.start(fx.spec("cmd", { workdir: "/elsewhere" }));
    expect(stdout(await fx.runtime.runRepl("cmd", "python", "print(marker)"))).toBe("same interpreter");
    const wrote = await fx.runtime.runCommand("cmd", "sh", [
      "-c",
      "mkdir -p /home/python-user && echo persisted > /home/python-user/note && echo gone > /tmp/t",
    ]);
    expect(wrote.exitCode).toBe(0);
    await fx.runtime.stop("cmd");
    expect(fx.runtime.isRunning("cmd")).toBe(false);
    await fx.runtime.start(fx.spec("cmd"));
    const after = await fx.runtime.runCommand("cmd", "sh", ["-c", "cat /home/python-user/note; pwd; ls /tmp"]);
    expect(after.output.map((l) => l.text)).toEqual(["persisted", "/home/python-user/work"]);
  });

  it("notices a sandbox whose main process was killed from inside, and can start it again", async () => {
    await fx.runtime.start(fx.spec("selfkill", { image: "microsandbox/node" }));
    expect(stdout(await fx.runtime.runRepl("selfkill", "node", "require('node:fs').existsSync('/home/node/work') && process.cwd()"))).toBe(
      "'/home/node/work'",
    );
    // pid 2 is the supervisor (pid 1 is bubblewrap's init, which ignores signals from inside).
    await fx.runtime.runCommand("selfkill", "kill", ["-9", "2"]).catch(() => undefined);
    for (let i = 0; i < 100 && fx.runtime.isRunning("selfkill"); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fx.runtime.isRunning("selfkill")).toBe(false);
    await expect(fx.runtime.runCommand("selfkill", "true", [])).rejects.toBeInstanceOf(SandboxStateError);
    await fx.runtime.start(fx.spec("selfkill", { image: "microsandbox/node" }));
    expect((await fx.runtime.runCommand("selfkill", "true", [])).exitCode).toBe(0);
  });

  it("rejects runs on a stopped sandbox and unsupported images", async () => {
    await expect(fx.runtime.runRepl("never", "python", "1")).rejects.toBeInstanceOf(SandboxStateError);
    await expect(fx.runtime.runCommand("never", "ls", [])).rejects.toBeInstanceOf(SandboxStateError);
    const error = await fx.runtime.start(fx.spec("img", { image: "ubuntu:22.04" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevServerError);
    expect((error as Error).message).toContain("microsandbox/python, microsandbox/node");
    await fx.runtime.stop("never");
  });
});
