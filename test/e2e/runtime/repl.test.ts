import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntimeFixture, stderr, stdout, type RuntimeFixture } from "../../helpers/runtime-fixture.js";

describe("bwrap runtime REPLs", () => {
  let fx: RuntimeFixture;
  beforeAll(async () => {
    fx = await createRuntimeFixture();
    await fx.runtime.start(fx.spec("py"));
    await fx.runtime.start(fx.spec("js", { image: "docker.io/microsandbox/node:latest" }));
  });
  afterAll(async () => {
    await fx?.dispose();
  });

  it("keeps python state between runs and echoes bare expressions", async () => {
    expect(await fx.runtime.runRepl("py", "python", "name = 'Python'\nx = 20")).toEqual([]);
    expect(await fx.runtime.runRepl("py", "python", "print(f'hi {name}')\nx + 22")).toEqual([
      { stream: "stdout", text: "hi Python" },
      { stream: "stdout", text: "42" },
    ]);
  });

  it("runs python code in a real __main__ module", async () => {
    const code =
      "import pickle\nclass Point:\n    def __init__(self, x):\n        self.x = x\nprint(pickle.loads(pickle.dumps(Point(3))).x, __name__)";
    expect(await fx.runtime.runRepl("py", "python", code)).toEqual([{ stream: "stdout", text: "3 __main__" }]);
    expect(await fx.runtime.runRepl("py", "python", "'read_request' in globals()")).toEqual([{ stream: "stdout", text: "False" }]);
  });

  it("accepts blank lines inside python blocks", async () => {
    const out = await fx.runtime.runRepl("py", "python", "def f(a):\n\n    b = a * 2\n\n    return b\nprint(f(21))");
    expect(out).toEqual([{ stream: "stdout", text: "42" }]);
  });

  it("returns a python traceback with its own run, and the next run is clean", async () => {
    const failing = await fx.runtime.runRepl("py", "python", "print('before')\n1/0");
    expect(stdout(failing)).toBe("before");
    expect(failing.every((l) => l.stream === "stdout" || l.stream === "stderr")).toBe(true);
    expect(stderr(failing)).toContain("Traceback (most recent call last):");
    expect(stderr(failing)).toContain("ZeroDivisionError: division by zero");
    const next = await fx.runtime.runRepl("py", "python", "print('after')");
    expect(next).toEqual([{ stream: "stdout", text: "after" }]);
  });

  it("returns output that lacks a trailing newline", async () => {
    expect(await fx.runtime.runRepl("py", "python", "print('x', end='')")).toEqual([{ stream: "stdout", text: "x" }]);
    // Relative order across the two streams is not guaranteed; each stream's lines are.
    const mixed = await fx.runtime.runRepl("py", "python", "import sys\n_ = sys.stderr.write('e')\nprint('')\nprint('')");
    expect(mixed.filter((l) => l.stream === "stderr")).toEqual([{ stream: "stderr", text: "e" }]);
    expect(mixed.filter((l) => l.stream === "stdout")).toEqual([
      { stream: "stdout", text: "" },
      { stream: "stdout", text: "" },
    ]);
    expect(await fx.runtime.runRepl("js", "node", "process.stdout.write('y'); undefined")).toEqual([{ stream: "stdout", text: "y" }]);
    // The echoed completion value continues the unterminated line, as in a terminal.
    expect(await fx.runtime.runRepl("js", "node", "process.stdout.write('y')")).toEqual([{ stream: "stdout", text: "ytrue" }]);
  });

  it("interrupts a python run on timeout and keeps the REPL and its state usable", async () => {
    await fx.runtime.runRepl("py", "python", "kept = 'still here'");
    const out = await fx.runtime.runRepl("py", "python", "import time\nprint('started')\nwhile True:\n    print('tick')\n    time.sleep(0.05)", 1);
    expect(out[0]).toEqual({ stream: "stdout", text: "started" });
    expect(out.slice(1, -1).every((l) => l.text === "tick")).toBe(true);
    expect(out.at(-1)).toEqual({ stream: "stderr", text: "Error: Execution timed out after 1 seconds" });
    // Neither the late ticks nor the KeyboardInterrupt traceback leak into the next run.
    expect(await fx.runtime.runRepl("py", "python", "print(kept)")).toEqual([{ stream: "stdout", text: "still here" }]);
  });

  it("restarts a python REPL that swallows the interrupt, and says so", async () => {
    // SIGINT ignored outright: a try/except in the loop leaves a window where the interrupt lands
    // outside the try and ends the run after all (seen once under load).
    const code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)";
    const out = await fx.runtime.runRepl("py", "python", code, 1);
    expect(out.map((l) => l.text)).toContain("Error: Execution timed out after 1 seconds");
    expect(stderr(out)).toContain("python REPL did not stop when interrupted and was restarted");
    expect(await fx.runtime.runRepl("py", "python", "print('kept' in globals())")).toEqual([{ stream: "stdout", text: "False" }]);
  });

  it("keeps node state, echoes values and reports uncaught errors on stderr", async () => {
    expect(await fx.runtime.runRepl("js", "node", "const greeting = 'hello'; let n = 40")).toEqual([]);
    expect(await fx.runtime.runRepl("js", "node", "console.log(greeting); n + 2")).toEqual([
      { stream: "stdout", text: "hello" },
      { stream: "stdout", text: "42" },
    ]);
    const failing = await fx.runtime.runRepl("js", "node", "console.log('a'); missingVariable.x");
    expect(stdout(failing)).toBe("a");
    expect(stderr(failing)).toContain("Uncaught ReferenceError: missingVariable is not defined");
    expect(await fx.runtime.runRepl("js", "node", "greeting.toUpperCase()")).toEqual([{ stream: "stdout", text: "'HELLO'" }]);
  });

  it("supports top-level await in node", async () => {
    expect(await fx.runtime.runRepl("js", "node", "const v = await Promise.resolve(7); console.log(v * 6)")).toEqual([
      { stream: "stdout", text: "42" },
    ]);
  });

  it("interrupts a synchronous node loop on timeout without losing state", async () => {
    const out = await fx.runtime.runRepl("js", "node", "console.log('spin'); while (true) {}", 1);
    expect(out[0]).toEqual({ stream: "stdout", text: "spin" });
    expect(out.at(-1)).toEqual({ stream: "stderr", text: "Error: Execution timed out after 1 seconds" });
    expect(await fx.runtime.runRepl("js", "node", "greeting")).toEqual([{ stream: "stdout", text: "'hello'" }]);
  });

  it("restarts a node REPL stuck in a timer loop and says so", async () => {
    const out = await fx.runtime.runRepl(
      "js",
      "node",
      "setTimeout(() => { while (true) {} }, 0); await new Promise((r) => setTimeout(r, 100000))",
      1,
    );
    expect(out.map((l) => l.text)).toContain("Error: Execution timed out after 1 seconds");
    expect(stderr(out)).toContain("was restarted");
    expect(await fx.runtime.runRepl("js", "node", "typeof greeting")).toEqual([{ stream: "stdout", text: "'undefined'" }]);
    expect(await fx.runtime.runRepl("js", "node", "1 + 1")).toEqual([{ stream: "stdout", text: "2" }]);
  });

  it("serialises concurrent runs on one sandbox", async () => {
    await fx.runtime.runRepl("py", "python", "counter = []");
    const runs = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        fx.runtime.runRepl("py", "python", `counter.append(${i})\nimport time\ntime.sleep(0.01)\nprint(len(counter))`),
      ),
    );
    expect(runs.map((r) => stdout(r)).sort()).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("reports a python REPL that exits and starts a fresh one next time", async () => {
    const out = await fx.runtime.runRepl("py", "python", "print('bye')\nraise SystemExit(3)");
    expect(out[0]).toEqual({ stream: "stdout", text: "bye" });
    expect(stderr(out)).toContain("exited (exit code 3)");
    expect(await fx.runtime.runRepl("py", "python", "print('fresh')")).toEqual([{ stream: "stdout", text: "fresh" }]);
  });
});
