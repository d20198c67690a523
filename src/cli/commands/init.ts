import type { Command } from "commander";
import { initConfigFile } from "../../config/index.js";
import type { CliContext } from "../context.js";
import { note, printJson, printLine } from "../output.js";
import { rejectTail } from "./tail.js";

/**
 * `msbv init [--force]`: writes a commented microsandbox.toml (sandbox "agent" mounting ./workspace),
 * creates the workspace folder and git-ignores `.microsandbox/`. Prints the file's path.
 */
export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command("init")
    .description("write a commented microsandbox.toml with a ./workspace mount in the current folder")
    .option("-f, --force", "replace an existing microsandbox.toml")
    .option("--json", "print {configPath, workspaceDir, gitignoreUpdated} as JSON")
    .action(async (opts: { force?: boolean; json?: boolean }) => {
      rejectTail(ctx, "init");
      const result = await initConfigFile(process.cwd(), { force: opts.force ?? false });
      if (opts.json) {
        printJson(result);
        return;
      }
      printLine(result.configPath);
      note(`created ${result.workspaceDir}/ (mounted at /workspace in sandbox "agent")`);
      if (result.gitignoreUpdated) note("added .microsandbox/ to .gitignore");
      note("next: `msbv dev-server --dev` in another terminal, then `msbv up` and `msbv run -- 'print(1)'`");
    });
}
