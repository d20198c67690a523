import { InvalidOptionError } from "../../errors/index.js";
import type { CliContext } from "../context.js";

/** Refuses a `-- …` tail on commands that take none, instead of silently ignoring it. */
export function rejectTail(ctx: CliContext, command: string): void {
  if (ctx.tail !== undefined) {
    throw new InvalidOptionError(`\`msbv ${command}\` takes no arguments after \`--\` (got: ${ctx.tail.join(" ")})`, {
      hint: "only `msbv run` (code) and `msbv exec` (a command line) take arguments after `--`",
    });
  }
}
