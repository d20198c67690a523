import type { CallOptions } from "./backend.js";

/** A composed signal plus enough information to tell a caller abort from our own time limit. */
export interface CallSignal {
  signal: AbortSignal | undefined;
  /** True when the caller's own signal fired (as opposed to the time limit). */
  callerAborted(): boolean;
  /** True when the time limit fired first. */
  timedOut(): boolean;
  timeoutMs: number | undefined;
}

/**
 * Composes the caller's `signal` with `timeoutMs` (or a per-method default) through
 * AbortSignal.any/AbortSignal.timeout, so a single signal goes to fetch and both causes stay
 * distinguishable afterwards for the error table.
 */
export function composeCallSignal(options: CallOptions | undefined, defaultTimeoutMs?: number): CallSignal {
  const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
  const caller = options?.signal;
  const timer = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
  const parts = [caller, timer].filter((s): s is AbortSignal => s !== undefined);
  const signal = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : AbortSignal.any(parts);
  return {
    signal,
    timeoutMs,
    callerAborted: () => caller?.aborted === true,
    timedOut: () => timer?.aborted === true && caller?.aborted !== true,
  };
}
