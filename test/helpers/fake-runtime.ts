import type { RuntimeMetrics, RuntimeOutputLine, RuntimeSandboxSpec, SandboxRuntime } from "../../src/server/runtime/types.js";

/**
 * In-memory SandboxRuntime for wire tests. REPL: `print(x)`-free — it echoes the code as one stdout
 * line, and code `fail` rejects (runtime failure). Commands: `exit` with args [n] exits n; `missing`
 * rejects like a spawn failure; anything else exits 0 echoing its args.
 */
export class FakeRuntime implements SandboxRuntime {
  readonly started: RuntimeSandboxSpec[] = [];
  readonly running = new Set<string>();
  readonly replCalls: { name: string; language: string; code: string; timeout: number | undefined }[] = [];
  shutdownCalls = 0;
  /** `true`: the next starts fail with a plain error; an Error: they fail with that one. */
  failStart: boolean | Error = false;

  async start(spec: RuntimeSandboxSpec): Promise<void> {
    if (this.failStart instanceof Error) throw this.failStart;
    if (this.failStart) throw new Error("fake runtime refused to start");
    this.started.push(structuredClone(spec));
    this.running.add(spec.name);
  }

  async stop(name: string): Promise<void> {
    this.running.delete(name);
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  async runRepl(name: string, language: "python" | "node", code: string, timeout?: number): Promise<RuntimeOutputLine[]> {
    this.replCalls.push({ name, language, code, timeout });
    if (code === "fail") throw new Error("fake repl crashed");
    return [{ stream: "stdout", text: `${language}:${code}` }];
  }

  async runCommand(_name: string, command: string, args: string[]): Promise<{ exitCode: number; output: RuntimeOutputLine[] }> {
    if (command === "missing") throw new Error("spawn missing ENOENT");
    if (command === "exit") return { exitCode: Number(args[0] ?? 0), output: [{ stream: "stderr", text: "bye" }] };
    return { exitCode: 0, output: [{ stream: "stdout", text: args.join(" ") }] };
  }

  async metrics(name: string): Promise<RuntimeMetrics> {
    return this.running.has(name)
      ? { running: true, cpuPercent: 1.5, memoryMiB: 12.7, diskBytes: 4096 }
      : { running: false, cpuPercent: null, memoryMiB: null, diskBytes: null };
  }

  async shutdown(): Promise<void> {
    this.shutdownCalls++;
    this.running.clear();
  }
}
