#!/usr/bin/env node
// The `msbv` entry: split off the `--` tail, parse, run one command, and funnel every error through
// one place that prints it and picks the exit code.
import { CommanderError } from "commander";
import { debugEnabled, exitCodeFor, formatError } from "./format-error.js";
import { buildProgram } from "./program.js";

const argv = process.argv.slice(2);
const dashDash = argv.indexOf("--");
const head = dashDash === -1 ? argv : argv.slice(0, dashDash);
const tail = dashDash === -1 ? undefined : argv.slice(dashDash + 1);

try {
  await buildProgram({ tail }).parseAsync(head, { from: "user" });
} catch (err) {
  // Commander already printed its own usage message (and help/version are "errors" with exit 0).
  if (!(err instanceof CommanderError)) {
    process.stderr.write(`${formatError(err, { debug: debugEnabled(), secrets: secretsFromEnv() })}\n`);
  }
  process.exitCode = exitCodeFor(err);
}

function secretsFromEnv(): string[] {
  return [process.env.MSB_API_KEY ?? ""].filter((s) => s.length > 0);
}
