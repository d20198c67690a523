import type { MethodHandler } from "./context.js";
import { msbvCapabilities } from "./capabilities.js";
import { sandboxCommandRun } from "./command-run.js";
import { sandboxMetrics } from "./metrics.js";
import { sandboxReplRun } from "./repl-run.js";
import { sandboxStart } from "./start.js";
import { sandboxStop } from "./stop.js";

export type { MethodContext, MethodHandler } from "./context.js";

/** The Gen B method set plus `msbv.capabilities`; names are case-sensitive. A Map so `constructor` & co. are not methods. */
export const METHODS: ReadonlyMap<string, MethodHandler> = new Map<string, MethodHandler>([
  ["sandbox.start", sandboxStart],
  ["sandbox.stop", sandboxStop],
  ["sandbox.metrics.get", sandboxMetrics],
  ["sandbox.repl.run", sandboxReplRun],
  ["sandbox.command.run", sandboxCommandRun],
  // Ours, not legacy (docs/protocol.md#capabilities-probe); a legacy server answers "method not found".
  ["msbv.capabilities", msbvCapabilities],
]);
