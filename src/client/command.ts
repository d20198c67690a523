import type { CallOptions } from "../backend/backend.js";
import { CommandExecution } from "./command-execution.js";
import { internalsOf } from "./internals.js";
import { serverSeconds } from "./seconds.js";

/** `sandbox.command`: runs an executable in the sandbox (no shell; use `sh -c` for pipes). */
export class Command {
  readonly #sandbox: object;

  constructor(sandbox: object) {
    this.#sandbox = sandbox;
  }

  /**
   * Runs `command` with `args` inside the sandbox.
   * @param timeout seconds, enforced by the server (third positional argument, as upstream).
   * @param options `signal` / `timeoutMs` for the HTTP call itself.
   */
  async run(command: string, args: string[] = [], timeout?: number, options?: CallOptions): Promise<CommandExecution> {
    const internals = internalsOf(this.#sandbox);
    const { backend, name } = internals.requireStarted();
    const seconds = serverSeconds(timeout, "timeout", options?.timeoutMs);
    const result = await internals.firstCall(() => backend.runCommand(name, command, [...args], seconds, options), options);
    return new CommandExecution(result);
  }
}
