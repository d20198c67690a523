import { createBwrapRuntime } from "./runtime/index.js";
import type { SandboxRuntime } from "./runtime/types.js";

/** The bubblewrap runtime with its state in `stateDir` (`<projectDir>/.menv`, never mountable). */
export function createDefaultRuntime(
  stateDir: string,
  options: { allowNetwork: boolean; poolSize?: number; log: (line: string) => void },
): SandboxRuntime {
  return createBwrapRuntime({ stateDir, ...options });
}
