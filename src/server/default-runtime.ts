import { DevServerError } from "../errors/errors.js";
import type { SandboxRuntime } from "./runtime/types.js";

interface RuntimeModule {
  createBwrapRuntime(options: { stateDir: string }): SandboxRuntime;
}

/** The bubblewrap runtime, loaded on first use so a server given its own runtime never needs it. */
export async function createDefaultRuntime(stateDir: string): Promise<SandboxRuntime> {
  const specifier = "./runtime/index.js";
  let mod: RuntimeModule;
  try {
    mod = (await import(specifier)) as RuntimeModule;
  } catch (err) {
    throw new DevServerError("Could not load the bubblewrap sandbox runtime", {
      cause: err,
      hint: "Reinstall the package, or pass a `runtime` option to startDevServer.",
    });
  }
  return mod.createBwrapRuntime({ stateDir });
}
