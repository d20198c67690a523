import { BaseSandbox, type RunOptions } from "./base-sandbox.js";
import type { Execution } from "./execution.js";
import type { SandboxOptions } from "./sandbox-options.js";

/** A sandbox running the `microsandbox/python` image with a persistent Python REPL. */
export class PythonSandbox extends BaseSandbox {
  protected override get sandboxKind(): "python" | "node" {
    return "python";
  }

  /**
   * Constructs and starts a sandbox (upstream: `start(image, memory, cpus, timeout)` from the
   * options). `volumes`, `envs`, `ports`… are sent too, unlike upstream which dropped them.
   */
  static override async create(options: SandboxOptions = {}): Promise<PythonSandbox> {
    return BaseSandbox.startNew(new PythonSandbox(options), options);
  }

  async getDefaultImage(): Promise<string> {
    return "microsandbox/python";
  }

  /** Runs Python code; REPL state (variables, imports) persists between calls until stop(). */
  async run(code: string, options?: RunOptions): Promise<Execution> {
    return this.runInLanguage("python", code, options);
  }
}
