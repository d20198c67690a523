import { ErrorCodes, SandboxStateError } from "../../errors/index.js";
import type { RuntimeOutputLine } from "../runtime/types.js";
import { internalError, validationError } from "../protocol/json-rpc.js";
import { isObject, type MethodContext } from "./context.js";

// repl.run and command.run were forwarded to the in-VM portal upstream. The server itself only
// checked `sandbox` (400s below); everything the portal rejected became a generic 500.

/** The params object and the running sandbox's name, or the legacy 400/500. */
export function forwardTarget(params: unknown, ctx: MethodContext): { params: Record<string, unknown>; name: string } {
  if (!isObject(params)) throw validationError("Request parameters must be an object containing 'sandbox'");
  const name = params.sandbox;
  if (typeof name !== "string") throw validationError("Missing required 'sandbox' parameter for portal request");
  if (!ctx.runtime.isRunning(name)) {
    const message = `Sandbox "${name}" is not running on this server (never started through it, stopped, or exited).`;
    throw internalError(message, new SandboxStateError(ErrorCodes.NOT_STARTED, message, { hint: "start the sandbox again" }));
  }
  return { params, name };
}

/** A portal-side string parameter; wrong/missing → generic 500 (the portal answered HTTP 400). */
export function requiredString(params: Record<string, unknown>, field: string, method: string): string {
  const value = params[field];
  if (typeof value !== "string") throw internalError(`${method}: '${field}' must be a string`);
  return value;
}

/** Optional `timeout`: a JSON integer ≥ 0 (seconds); fractions and negatives fail like the portal's u64. */
export function optionalTimeout(params: Record<string, unknown>, method: string): number | undefined {
  const value = params.timeout;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw internalError(`${method}: 'timeout' must be a non-negative integer number of seconds`);
  }
  return value;
}

/** Copies lines to exactly the wire shape (no extra members from the runtime). */
export function wireLines(lines: readonly RuntimeOutputLine[]): { stream: "stdout" | "stderr"; text: string }[] {
  return lines.map((l) => ({ stream: l.stream, text: l.text }));
}
