import { readFileSync } from "node:fs";
import { Command } from "commander";
import { applyGlobalsToEnv, globalsOf, type CliContext } from "./context.js";
import { registerConfig } from "./commands/config.js";
import { registerDevServer } from "./commands/dev-server.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerExec } from "./commands/exec.js";
import { registerInit } from "./commands/init.js";
import { registerKeygen } from "./commands/keygen.js";
import { registerRun } from "./commands/run.js";
import { registerStatus } from "./commands/status.js";
import { registerStop } from "./commands/stop.js";
import { registerUp } from "./commands/up.js";

/** Builds the `msbv` command tree. Parse errors throw (exitOverride) so main.ts owns the exit code. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command("msbv")
    .description("Sandboxes with real host-folder volumes: config, local dev server, run code and commands.")
    .version(packageVersion(), "-V, --version")
    .option("-c, --config <path>", "config file to use instead of the nearest microsandbox.toml (env MSB_CONFIG)")
    .option("-s, --server <url>", "server URL, overriding MSB_SERVER_URL and the config file")
    .showHelpAfterError("(run `msbv --help` for usage)")
    .exitOverride()
    .hook("preAction", (_root, action) => applyGlobalsToEnv(globalsOf(action)));

  for (const register of [
    registerInit,
    registerConfig,
    registerUp,
    registerRun,
    registerExec,
    registerStatus,
    registerStop,
    registerDoctor,
    registerDevServer,
    registerKeygen,
  ]) {
    register(program, ctx);
  }
  // Subcommands inherit exitOverride only when set before they are added; set it on each explicitly.
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

function packageVersion(): string {
  const raw = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(raw) as { version: string }).version;
}
