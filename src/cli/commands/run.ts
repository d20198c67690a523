import { readFile } from "node:fs/promises";
import { text as readStream } from "node:stream/consumers";
import type { Command } from "commander";
import { InvalidOptionError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { ExitCodes } from "../format-error.js";
import { printJson } from "../output.js";
import type { BackendKind } from "../../config/index.js";
import { backendOption, ensureDeclaredRunning } from "../sandbox-session.js";
import { parseSeconds } from "./seconds.js";
import { sandboxOutputFor } from "../terminal-text.js";

interface RunOptions {
  backend?: BackendKind;
  file?: string;
  json?: boolean;
  timeout?: number;
  raw?: boolean;
}

/**
 * `msbv run [name] -- code` / `--file path`: runs code in the sandbox's REPL (python or node, from
 * its image). Starts the sandbox when it is not running and leaves it running, so REPL state carries
 * over to the next `run`. Exit 1 when the execution reports an error.
 */
export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command("run")
    .description("run code in a declared sandbox's REPL (starts it if needed and leaves it running)")
    .argument("[name]", "sandbox name (default: the only declared sandbox)")
    .option("-f, --file <path>", "read the code from a file (`-` = stdin) instead of after `--`")
    .option("-t, --timeout <seconds>", "execution time limit enforced by the server", parseSeconds)
    .option("--json", "print {stdout, stderr, status, hasError} as JSON")
    .option("--raw", "write the sandbox's output as is, even to a terminal (default: control sequences shown as ^[ …)")
    .addOption(backendOption())
    .usage("[options] [name] -- <code…>")
    .action(async (name: string | undefined, opts: RunOptions) => {
      const code = await codeFrom(ctx, opts);
      const sandbox = await ensureDeclaredRunning(name, opts.backend);
      const execution = await sandbox.run(code, opts.timeout !== undefined ? { timeout: opts.timeout } : undefined);
      const [stdout, stderr] = [await execution.output(), await execution.error()];
      if (opts.json) {
        printJson({ sandbox: sandbox.name, status: execution.status, hasError: execution.hasError(), stdout, stderr });
      } else {
        if (stdout) process.stdout.write(sandboxOutputFor(process.stdout, `${stdout}\n`, opts.raw === true));
        if (stderr) process.stderr.write(sandboxOutputFor(process.stderr, `${stderr}\n`, opts.raw === true));
      }
      if (execution.hasError()) process.exitCode = ExitCodes.FAILURE;
    });
}

async function codeFrom(ctx: CliContext, opts: RunOptions): Promise<string> {
  if (opts.file !== undefined && ctx.tail !== undefined) {
    throw new InvalidOptionError("`msbv run` got both --file and code after `--`", { hint: "pass only one of them" });
  }
  if (opts.file === "-") return readStream(process.stdin);
  if (opts.file !== undefined) {
    try {
      return await readFile(opts.file, "utf8");
    } catch (err) {
      throw new InvalidOptionError(`Could not read the code file ${opts.file}: ${(err as Error).message}`, {
        cause: err,
        hint: "pass an existing, readable file to --file",
      });
    }
  }
  if (ctx.tail === undefined || ctx.tail.length === 0) {
    throw new InvalidOptionError("`msbv run` needs code: `msbv run [name] -- 'print(1)'` or --file PATH", {
      hint: "put the code after `--`, or pass --file PATH (`-` reads stdin)",
    });
  }
  return ctx.tail.join(" ");
}
