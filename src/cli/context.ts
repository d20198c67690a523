import * as path from "node:path";
import type { Command } from "commander";

/** What main.ts hands every command besides commander's parse result. */
export interface CliContext {
  /** The arguments after a literal `--` (code for `run`, the command line for `exec`); undefined when absent. */
  tail: readonly string[] | undefined;
}

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  /** `--config PATH`: the config file, instead of discovery from the working directory. */
  config?: string;
  /** `--server URL`: the server, instead of MSB_SERVER_URL or the file's `[server] url`. */
  server?: string;
}

/** The global options as seen from a subcommand. */
export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * Hands the global flags to the library as the env vars it already honours (MSB_CONFIG,
 * MSB_SERVER_URL): a flag then beats the env var and the file, and no precedence logic lives in the
 * CLI. Mutating process.env is fine here: the process runs exactly one command.
 */
export function applyGlobalsToEnv(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): void {
  if (globals.config !== undefined) env.MSB_CONFIG = path.resolve(globals.config);
  if (globals.server !== undefined) env.MSB_SERVER_URL = globals.server;
}
