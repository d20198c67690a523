import type { Command } from "commander";
import { InvalidOptionError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { ExitCodes } from "../format-error.js";
import { printJson } from "../output.js";
import type { BackendKind } from "../../config/index.js";
import { backendOption, ensureDeclaredRunning } from "../sandbox-session.js";
import { parseSeconds } from "./seconds.js";
import { sandboxOutputFor } from "../terminal-text.js";

/**
 * `msbv exec [name] -- cmd args…`: runs one executable in the sandbox (no shell; `-- sh -c '…'` for
 * pipes), starting the sandbox if needed. The CLI exits with the command's exit code.
 */
export function registerExec(program: Command, ctx: CliContext): void {
  program
    .command("exec")
    .description("run a command in a declared sandbox (starts it if needed) and exit with its exit code")
    .argument("[name]", "sandbox name (default: the only declared sandbox)")
    .option("-t, --timeout <seconds>", "command time limit enforced by the server", parseSeconds)
    .option("--json", "print {exitCode, success, stdout, stderr} as JSON")
    .option("--raw", "write the sandbox's output as is, even to a terminal (default: control sequences shown as ^[ …)")
    .addOption(backendOption())
    .usage("[options] [name] -- <command> [args…]")
    .action(async (name: string | undefined, opts: { json?: boolean; timeout?: number; raw?: boolean; backend?: BackendKind }) => {
      const [command, ...args] = ctx.tail ?? [];
      if (command === undefined || command === "") {
        throw new InvalidOptionError("`msbv exec` needs a command after `--`: `msbv exec [name] -- ls -la /workspace`", {
          hint: "put the executable and its arguments after `--`",
        });
      }
      const sandbox = await ensureDeclaredRunning(name, opts.backend);
      const result = await sandbox.command.run(command, args, opts.timeout);
      const [stdout, stderr] = [await result.output(), await result.error()];
      if (opts.json) {
        printJson({
          sandbox: sandbox.name,
          command,
          args,
          exitCode: result.exitCode,
          success: result.success,
          stdout,
          stderr,
        });
      } else {
        if (stdout) process.stdout.write(sandboxOutputFor(process.stdout, `${stdout}\n`, opts.raw === true));
        if (stderr) process.stderr.write(sandboxOutputFor(process.stderr, `${stderr}\n`, opts.raw === true));
      }
      process.exitCode = cliExitCode(result.exitCode);
    });
}

/** The command's own code when it fits a process exit status; an unknown (-1) one is a failure. */
function cliExitCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : ExitCodes.FAILURE;
}
