// The in-VM REPL protocol, exercised without a VM: the embedded backend's ExecReplHost and
// launcher drive the dev server's own drivers (python-driver.ts, node-driver.ts) through the
// shared ReplSession, with a LOCAL child process standing in for the SDK's exec stream.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ExecReplHost, launcherArgv } from "../../../../src/backend/embedded/repl-host.js";
import type { ExecStream, StreamEvent } from "../../../../src/backend/embedded/exec-stream.js";
import { driverArgv } from "../../../../src/server/runtime/driver-argv.js";
import { ReplSession } from "../../../../src/server/runtime/repl-session.js";

const PYTHON = ["/usr/bin/python3", "/usr/local/bin/python3"].find((p) => existsSync(p));
const opened: Array<ReturnType<typeof spawn>> = [];

/** An ExecStream over a local process: the same events, stdin, signal and kill the SDK gives. */
function openLocal(command: string, args: string[]): Promise<ExecStream> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  opened.push(child);
  const queue: Array<StreamEvent | null> = [];
  const waiters: Array<(event: StreamEvent | null) => void> = [];
  const push = (event: StreamEvent | null): void => {
    const waiter = waiters.shift();
    if (waiter) waiter(event);
    else queue.push(event);
  };
  let open = 2;
  const closed = (): void => {
    if (--open === 0) {
      child.once("exit", (code, signal) => {
        push({ kind: "exited", code: code ?? (signal ? 128 + 9 : 1) });
        push(null);
      });
    }
  };
  if (child.exitCode !== null) closed();
  child.stdout.on("data", (data: Buffer) => push({ kind: "stdout", data }));
  child.stderr.on("data", (data: Buffer) => push({ kind: "stderr", data }));
  child.stdout.on("end", closed);
  child.stderr.on("end", closed);
  return Promise.resolve({
    recv: () => (queue.length > 0 ? Promise.resolve(queue.shift() ?? null) : new Promise((resolve) => waiters.push(resolve))),
    write: (text) => new Promise<void>((resolve, reject) => child.stdin.write(text, (err) => (err ? reject(err) : resolve()))),
    signal: async (signal) => void child.kill(signal),
    kill: async () => void child.kill("SIGKILL"),
  });
}

afterEach(() => {
  for (const child of opened.splice(0)) child.kill("SIGKILL");
});

const texts = (lines: Array<{ stream: string; text: string }>, stream: string): string[] =>
  lines.filter((l) => l.stream === stream).map((l) => l.text);

it("the launcher moves the piped stdin to fd 3 and gives the driver /dev/null as stdin", () => {
  const { command, args } = launcherArgv(["python3", "-c", "x"]);
  expect(command).toBe("sh");
  expect(args.slice(0, 3)).toEqual(["-c", 'exec 3<&0 0</dev/null; exec "$@"', "msbv-repl"]);
  expect(args.slice(3)).toEqual(["python3", "-c", "x"]);
});

describe.skipIf(PYTHON === undefined)("python driver through the embedded REPL host", () => {
  const session = (): ReplSession => new ReplSession(new ExecReplHost(openLocal), "python", driverArgv("python", PYTHON ?? "python3"));

  it("keeps state between runs, echoes expressions, reports tracebacks on stderr", async () => {
    const repl = session();
    expect(await repl.run("t", "x = 40\nprint('set')")).toEqual([{ stream: "stdout", text: "set" }]);
    expect(texts(await repl.run("t", "x + 2"), "stdout")).toEqual(["42"]);
    const failed = await repl.run("t", "1/0");
    expect(texts(failed, "stderr").at(-1)).toBe("ZeroDivisionError: division by zero");
  });

  it("user code reading stdin gets EOF instead of the next request", async () => {
    const repl = session();
    const lines = await repl.run("t", "try:\n    input()\nexcept EOFError:\n    print('eof')");
    expect(lines).toEqual([{ stream: "stdout", text: "eof" }]);
    expect(texts(await repl.run("t", "print('next')"), "stdout")).toEqual(["next"]);
  });

  it("a run past its timeout is interrupted (SIGINT through the stream) and the state survives", async () => {
    const repl = session();
    await repl.run("t", "kept = 'yes'");
    const lines = await repl.run("t", "print('before', flush=True)\nwhile True: pass", 1);
    expect(texts(lines, "stdout")).toEqual(["before"]);
    expect(texts(lines, "stderr")).toContain("Error: Execution timed out after 1 seconds");
    expect(texts(await repl.run("t", "kept"), "stdout")).toEqual(["'yes'"]);
  });

  it("a driver that dies is restarted on the next run, without the earlier state", async () => {
    const repl = session();
    await repl.run("t", "gone = 1");
    const died = await repl.run("t", "import os; os._exit(3)");
    expect(texts(died, "stderr").join("\n")).toMatch(/REPL exited \(exit code 3\)/);
    const after = await repl.run("t", "print('gone' in dir())");
    expect(texts(after, "stdout")).toEqual(["False"]);
  });
});

describe("node driver through the embedded REPL host", () => {
  const session = (): ReplSession => new ReplSession(new ExecReplHost(openLocal), "node", driverArgv("node", process.execPath));

  it("keeps declarations between runs and echoes completion values", async () => {
    const repl = session();
    expect(await repl.run("t", "var n = 20; console.log('ok')")).toEqual([{ stream: "stdout", text: "ok" }]);
    expect(texts(await repl.run("t", "n * 2 + 2"), "stdout")).toEqual(["42"]);
  });

  it("interrupts a synchronous loop on timeout and keeps the state", async () => {
    const repl = session();
    await repl.run("t", "var kept = 'yes'");
    const lines = await repl.run("t", "while (true) {}", 1);
    expect(texts(lines, "stderr")).toContain("Error: Execution timed out after 1 seconds");
    expect(texts(await repl.run("t", "kept"), "stdout")).toEqual(["'yes'"]);
  });
});
