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
