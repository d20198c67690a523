import type { SandboxBackend } from "../backend.js";
import { EmbeddedBackend } from "./embedded-backend.js";

/**
 * Bridge to the seam (src/backend/backend.ts), whose `start` now takes the resolved SandboxSpec:
 * the embedded backend's own `start(name, config)` takes the same shape. This adapter goes away
 * once EmbeddedBackend implements SandboxBackend itself.
 */
export function embeddedSeamBackend(embedded: EmbeddedBackend = new EmbeddedBackend()): SandboxBackend {
  return {
    capabilities: () => Promise.resolve(embedded.capabilities),
    start: (spec, options) => embedded.start(spec.name, spec, options),
    stop: (name, options) => embedded.stop(name, options),
    runCode: (name, language, code, timeoutSeconds, options) => embedded.runCode(name, language, code, timeoutSeconds, options),
    runCommand: (name, command, args, timeoutSeconds, options) => embedded.runCommand(name, command, args, timeoutSeconds, options),
    metrics: (name, options) => embedded.metrics(name, options),
  };
}
