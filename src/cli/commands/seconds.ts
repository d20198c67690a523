import { InvalidArgumentError } from "commander";

/** Commander parser for a positive number of seconds (`--timeout 30`, `--timeout 1.5`). */
export function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError(`expected a positive number of seconds, got "${value}"`);
  }
  return seconds;
}
