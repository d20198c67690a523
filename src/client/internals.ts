import type { CallOptions, SandboxBackend } from "../backend/backend.js";
import { InvalidOptionError } from "../errors/errors.js";

/**
 * What Command/Metrics need from their sandbox without widening BaseSandbox's public surface
 * (upstream exposes only the documented getters).
 */
export interface SandboxInternals {
  /** Throws NOT_STARTED ("Sandbox is not started. Call start() first.") when not started. */
  requireStarted(): { backend: SandboxBackend; name: string };
  /**
   * Runs a repl/command call: the first after start is retried only if the connection was refused;
   * a NOT_STARTED answer marks the sandbox as not started.
   */
  firstCall<T>(fn: () => Promise<T>, options?: CallOptions): Promise<T>;
}

const registry = new WeakMap<object, SandboxInternals>();

export function registerInternals(sandbox: object, internals: SandboxInternals): void {
  registry.set(sandbox, internals);
}

export function internalsOf(sandbox: object): SandboxInternals {
  const internals = registry.get(sandbox);
  // Only reachable if someone hands Command/Metrics a foreign object: a programming error.
  if (!internals) {
    throw new InvalidOptionError("Command/Metrics were given an object that is not a sandbox of this package", {
      hint: "use `sandbox.command` / `sandbox.metrics` instead of constructing them yourself",
    });
  }
  return internals;
}
