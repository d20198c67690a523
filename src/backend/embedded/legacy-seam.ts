import type { CallOptions, SandboxBackend } from "../backend.js";
import type { WireStartConfig } from "../wire.js";
import { EmbeddedBackend } from "./embedded-backend.js";
import type { EmbeddedSandboxConfig } from "./types.js";

/**
 * Bridge to today's seam, whose `start` takes the legacy wire config (volumes as "host:guest"
 * strings, no read-only flag). The embedded backend needs the RESOLVED config, which the start
 * pipeline has: it is captured here and used instead of the wire body. When the seam itself passes
 * the resolved config (src/backend/backend.ts), this adapter goes away.
 */
export function embeddedSeamBackend(resolved: EmbeddedSandboxConfig, embedded: EmbeddedBackend = new EmbeddedBackend()): SandboxBackend {
  return {
    capabilities: embedded.capabilities,
    start: (name: string, _wire: WireStartConfig, options?: CallOptions) => embedded.start(name, { ...resolved, name }, options),
    stop: (name, options) => embedded.stop(name, options),
    runCode: (name, language, code, timeoutSeconds, options) => embedded.runCode(name, language, code, timeoutSeconds, options),
    runCommand: (name, command, args, timeoutSeconds, options) => embedded.runCommand(name, command, args, timeoutSeconds, options),
    metrics: (name, options) => embedded.metrics(name, options),
  };
}
