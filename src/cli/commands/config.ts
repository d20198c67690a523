import type { Command } from "commander";
import { resolveSandbox } from "../../config/index.js";
import type { ResolvedSandboxConfig } from "../../config/types.js";
import type { CliContext } from "../context.js";
import { printJson, printToml } from "../output.js";
import { declaredSandbox } from "../target.js";
import { rejectTail } from "./tail.js";

/**
 * `msbv config [name]`: the sandbox exactly as a start would resolve it (file + env + defaults,
 * host paths canonical and policy-checked). TOML by default, `--json` for tools. No API key.
 */
export function registerConfig(program: Command, ctx: CliContext): void {
  program
    .command("config")
    .description("print the resolved configuration of a declared sandbox (TOML, or --json)")
    .argument("[name]", "sandbox name (default: the only declared sandbox)")
    .option("--json", "print as JSON")
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      rejectTail(ctx, "config");
      const target = await declaredSandbox(name);
      const { sandbox, server, projectDir, configFile } = await resolveSandbox({
        kind: target.kind,
        options: { name: target.name, configPath: target.config.path },
        // Offline: whether the server enforces read-only mounts is asked at start (msbv.capabilities),
        // where a legacy server's answer refuses them (MSBV_READONLY_UNSUPPORTED).
        readonlySupported: true,
        // A read-only command: `create = true` folders are not made here (`msbv up` makes them).
        dryRun: true,
      });
      const source = { configFile: configFile ?? target.config.path, projectDir };
      if (opts.json) {
        printJson({ ...source, server: { url: server.url, apiKeySet: server.apiKey !== undefined }, sandbox });
        return;
      }
      printToml({
        config_file: source.configFile,
        project_dir: source.projectDir,
        server: { url: server.url, api_key_set: server.apiKey !== undefined },
        sandbox: tomlSandbox(sandbox),
      });
    });
}

/** snake_case keys as in microsandbox.toml and the generated file. */
function tomlSandbox(sandbox: ResolvedSandboxConfig): Record<string, unknown> {
  const { dependsOn, volumes, ...rest } = sandbox;
  return {
    ...rest,
    depends_on: dependsOn,
    volumes: volumes.map((v) => ({ host: v.host, guest: v.guest, readonly: v.readonly })),
  };
}
