import ora from "ora";
import { stringify as stringifyToml } from "smol-toml";

// Data goes to stdout, everything meant for a human watching (progress, notes, errors) to stderr,
// so `msbv status --json | jq` and `msbv run -- code > out.txt` see only data.

/** Writes one line of data to stdout. */
export function printLine(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** Writes a value as pretty JSON on stdout (the `--json` form of every read command). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a plain object as TOML on stdout. `undefined` fields are dropped (TOML has no null). */
export function printToml(value: Record<string, unknown>): void {
  process.stdout.write(`${stringifyToml(dropUndefined(value)).trimEnd()}\n`);
}

/** Writes a line for the human on stderr. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** A progress indicator on stderr: a spinner on a terminal, one plain line otherwise. */
export interface Progress {
  succeed(text: string): void;
  fail(text?: string): void;
}

/**
 * Starts a progress indicator for a wait of unknown length. `quiet` drops the plain line when
 * stderr is not a terminal (for commands whose stderr carries the sandbox's own stderr).
 */
export function startProgress(text: string, opts: { quiet?: boolean } = {}): Progress {
  // A pty that reports 0 columns (e.g. under `script`) makes ora's line-clearing spin; use plain lines.
  if (process.stderr.isTTY && (process.stderr.columns ?? 0) > 0) {
    const spinner = ora({ text, stream: process.stderr, discardStdin: false }).start();
    return {
      succeed: (done) => void spinner.succeed(done),
      fail: (failed) => void spinner.fail(failed ?? text),
    };
  }
  if (opts.quiet) return { succeed: () => undefined, fail: () => undefined };
  note(`${text}…`);
  return {
    succeed: (done) => note(done),
    fail: () => undefined,
  };
}

/** Runs `work` under a progress indicator; the indicator fails (and the error propagates) on rejection. */
export async function withProgress<T>(text: string, work: () => Promise<T>, done: (value: T) => string, opts: { quiet?: boolean } = {}): Promise<T> {
  const progress = startProgress(text, opts);
  try {
    const value = await work();
    progress.succeed(done(value));
    return value;
  } catch (err) {
    progress.fail();
    throw err;
  }
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (child !== undefined) out[key] = dropUndefined(child);
    }
    return out;
  }
  return value;
}
