import { CommanderError } from "commander";
import { ConfigError, ErrorCodes, MsbvError, ValidationError, redactSecrets } from "../errors/index.js";
import type { ErrorCode } from "../errors/index.js";
import { neutraliseControls } from "./terminal-text.js";

/** Process exit codes of `msbv`. Documented in the README; never change their meaning. */
export const ExitCodes = {
  OK: 0,
  /** The command ran and failed: sandbox error, failed execution, server-side error. */
  FAILURE: 1,
  /** Bad arguments or an invalid config: nothing was attempted. */
  USAGE: 2,
  /** The server could not be reached, refused the credentials, or timed out. */
  UNREACHABLE: 3,
} as const;

export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

// Codes that mean "the input is wrong" even when a module throws them from a non-Validation class.
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.INVALID_VOLUME,
  ErrorCodes.HOST_PATH_DENIED,
  ErrorCodes.HOST_PATH_INVALID,
  ErrorCodes.READONLY_UNSUPPORTED,
  ErrorCodes.REMOTE_HOST_PATHS,
  ErrorCodes.INVALID_OPTION,
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.CONFIG_UNKNOWN_SANDBOX,
  ErrorCodes.CONFIG_EXISTS,
]);

const UNREACHABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([ErrorCodes.CONNECTION_FAILED, ErrorCodes.AUTH_FAILED, ErrorCodes.TIMEOUT]);

/** The exit code an error maps to. Commander's own help/version "errors" map to 0. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
  if (err instanceof MsbvError) {
    if (UNREACHABLE_CODES.has(err.code)) return ExitCodes.UNREACHABLE;
    if (err instanceof ValidationError || USAGE_CODES.has(err.code)) return ExitCodes.USAGE;
  }
  return ExitCodes.FAILURE;
}

/**
 * Renders an error for a human: `error[CODE]: message` (the message already carries the `Fix:` hint),
 * one `file:line:col` line per config issue, and the stack chain only when `debug` is set.
 * Everything passes through `redactSecrets`, plus any secret the caller knows about, then
 * `neutraliseControls` (a hostile server's message must not reach the terminal as escape sequences).
 */
export function formatError(err: unknown, opts: { debug?: boolean; secrets?: readonly string[] } = {}): string {
  const lines: string[] = [];
  if (err instanceof MsbvError) {
    lines.push(`error[${err.code}]: ${err.message}`);
    if (err instanceof ConfigError) {
      for (const issue of err.issues) {
        const where = issueLocation(issue);
        const line = `  ${where ? `${where}: ` : ""}${issue.keyPath ? `${issue.keyPath}: ` : ""}${issue.message}`;
        // Some messages already list the issues; do not print them twice.
        if (!err.message.includes(issue.message) || (where && !err.message.includes(where))) lines.push(line);
      }
    }
  } else if (err instanceof Error) {
    lines.push(`error: ${err.message}`);
  } else {
    lines.push(`error: ${String(err)}`);
  }
  if (opts.debug) lines.push(...stackChain(err));
  // Messages carry server- and sandbox-chosen text; always inert, whether stderr is a terminal or a log.
  return neutraliseControls(redactSecrets(lines.join("\n"), opts.secrets ?? []));
}

/** An error's message without the `Fix:` line MsbvError appends (for callers that print the fix apart). */
export function withoutHint(err: MsbvError): string {
  return err.hint ? err.message.replace(`\n  Fix: ${err.hint}`, "") : err.message;
}

function issueLocation(issue: { file?: string; line?: number; column?: number }): string {
  if (!issue.file) return "";
  if (issue.line === undefined) return issue.file;
  return `${issue.file}:${issue.line}:${issue.column ?? 1}`;
}

function stackChain(err: unknown): string[] {
  const out: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    out.push(depth === 0 ? (current.stack ?? "") : `caused by: ${current.stack ?? current.message}`);
    current = current.cause;
  }
  return out;
}

/** True when `DEBUG` names msbv (`DEBUG=msbv`, `DEBUG=msbv:*`, `DEBUG=*`). */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.DEBUG ?? "";
  return value.split(/[\s,]+/).some((part) => part === "*" || part === "msbv" || part.startsWith("msbv:"));
}
