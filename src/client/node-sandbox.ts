import { BaseSandbox, type RunOptions } from "./base-sandbox.js";
import type { Execution } from "./execution.js";
import type { SandboxOptions } from "./sandbox-options.js";

/** A sandbox running the `microsandbox/node` image with a persistent Node.js REPL. */
export class NodeSandbox extends BaseSandbox {
  protected override get sandboxKind(): "python" | "node" {
    return "node";
  }

  /**
   * Constructs and starts a sandbox (upstream: `start(image, memory, cpus, timeout)` from the
   * options). `volumes`, `envs`, `ports`… are sent too, unlike upstream which dropped them.
   */
  static override async create(options: SandboxOptions = {}): Promise<NodeSandbox> {
    return BaseSandbox.startNew(new NodeSandbox(options), options);
  }

  async getDefaultImage(): Promise<string> {
    return "microsandbox/node";
  }

  /** Runs JavaScript in a Node REPL; state (variables, requires) persists between calls until stop(). */
  async run(code: string, options?: RunOptions): Promise<Execution> {
    return this.runInLanguage("nodejs", code, options);
  }
}
