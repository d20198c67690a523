import type { Command } from "commander";
import { readGeneratedConfig } from "../../config/index.js";
import type { CliContext } from "../context.js";
import { printJson, printLine, withProgress } from "../output.js";
import type { BackendKind } from "../../config/index.js";
import { backendOption, startDeclared } from "../sandbox-session.js";
import { declaredSandbox } from "../target.js";
import { rejectTail } from "./tail.js";

/** `msbv up [name]`: starts a declared sandbox and leaves it running; prints its name and mounts. */
export function registerUp(program: Command, ctx: CliContext): void {
  program
    .command("up")
    .description("start a sandbox declared in microsandbox.toml (it keeps running; `msbv stop` ends it)")
    .argument("[name]", "sandbox name (default: the only declared sandbox)")
    .option("--json", "print the result as JSON")
    .addOption(backendOption())
    .action(async (name: string | undefined, opts: { json?: boolean; backend?: BackendKind }) => {
      rejectTail(ctx, "up");
      const target = await declaredSandbox(name);
      const sandbox = await withProgress(
        `starting sandbox ${target.name}`,
        () => startDeclared(target, opts.backend),
        (sb) => `sandbox ${sb.name} is running at ${sb.serverUrl}`,
      );
      const resolved = await readGeneratedConfig(target.config.dir, target.name);
      const mounts = (resolved?.volumes ?? []).map((v) => ({ host: v.host, guest: v.guest, readonly: v.readonly }));
      if (opts.json) {
        printJson({ name: sandbox.name, server: sandbox.serverUrl, image: resolved?.image, mounts });
        return;
      }
      printLine(sandbox.name);
      for (const m of mounts) printLine(`  ${m.host} -> ${m.guest}${m.readonly ? " (read-only)" : ""}`);
    });
}
