import { InvalidOptionError } from "../errors/errors.js";

/**
 * The wire wants whole, non-negative seconds (a fraction makes the legacy portal fail with a
 * generic 500), so fractions round up rather than cutting a limit short.
 */
export function wireSeconds(value: number | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(`${option} must be a non-negative number of seconds, got ${String(value)}`, {
      hint: `pass ${option} as seconds, e.g. 30`,
      details: { option, value },
    });
  }
  return Math.ceil(value);
}

/**
 * The server-side limit sent with a run: the caller's `timeout` (seconds), capped by the client's
 * own `timeoutMs` rounded up. Why: when the client gives up on its own timeout, the server stops the
 * code at the same moment instead of letting it run on and block the next run (every server,
 * legacy included, understands `timeout`). The dev server also interrupts on hang-up.
 */
export function serverSeconds(timeout: number | undefined, option: string, timeoutMs: number | undefined): number | undefined {
  const seconds = wireSeconds(timeout, option);
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs) || timeoutMs <= 0) return seconds;
  const clientSeconds = Math.ceil(timeoutMs / 1000);
  return seconds === undefined || seconds === 0 ? clientSeconds : Math.min(seconds, clientSeconds);
}
