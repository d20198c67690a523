import type { Command } from "commander";
import type { RpcBackend } from "../../backend/rpc-backend.js";
import { resolveBackend, type BackendKind } from "../../config/index.js";
import { InvalidOptionError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { ExitCodes, formatError } from "../format-error.js";
import { note, printJson, printLine } from "../output.js";
import { backendOption } from "../sandbox-session.js";
import { neutraliseControls } from "../terminal-text.js";
import { backendFor, serverTarget } from "../server-target.js";
import { declaredSandbox, findConfig } from "../target.js";
import { rejectTail } from "./tail.js";
import { loadSyncSession, syncBack } from "../../sync/index.js";

/** `msbv stop [name] | --all`: stops sandboxes on the server. */
export function registerStop(program: Command, ctx: CliContext): void {
  program
    .command("stop")
    .description("stop a sandbox (default: the only declared one) or, with --all, every running sandbox")
    .argument("[name]", "sandbox name (any sandbox the server knows, declared or not)")
    .option("-a, --all", "stop every running sandbox on the server")
    .option("--json", "print {stopped: [...], failed: [...]} as JSON")
    .addOption(backendOption())
    .action(async (name: string | undefined, opts: { all?: boolean; json?: boolean; backend?: BackendKind }) => {
      rejectTail(ctx, "stop");
      if (opts.all && name !== undefined) {
        throw new InvalidOptionError("`msbv stop` got both a name and --all", { hint: "pass a name or --all, not both" });
      }
      const config = await findConfig();
      if ((opts.backend ?? resolveBackend({}, config, name)) === "embedded") {
        // Real microVMs: no server, no sync mode (host folders are mounted). Loaded only here.
        const { EmbeddedBackend } = await import("../../backend/embedded/index.js");
        const embedded = new EmbeddedBackend();
        if (opts.all) {
          const names = (await embedded.metrics(undefined)).filter((m) => m.running).map((m) => m.name);
          await stopAll((n) => embedded.stop(n).then(() => undefined), names, opts.json ?? false);
          return;
        }
        const target = name ?? (await declaredSandbox(undefined)).name;
        await embedded.stop(target);
        if (opts.json) printJson({ stopped: [target], failed: [] });
        else printLine(target);
        return;
      }
      const backend = backendFor(serverTarget(config));
      const projectDir = config?.dir ?? process.cwd();
      const stop = (n: string): Promise<void> => stopWithSyncBack(backend, projectDir, n);
      if (opts.all) {
        const names = (await backend.metrics(undefined)).filter((m) => m.running).map((m) => m.name);
        await stopAll(stop, names, opts.json ?? false);
        return;
      }
      // One sandbox: its error goes through the funnel like any other.
      const target = name ?? (await declaredSandbox(undefined)).name;
      await stop(target);
      if (opts.json) printJson({ stopped: [target], failed: [] });
      else printLine(target);
    });
}

/**
 * A sandbox started in sync mode holds work that exists only inside it: copy it back first (as the
 * library's stop() does), stop the sandbox whatever happens, then report a sync failure.
 */
async function stopWithSyncBack(backend: RpcBackend, projectDir: string, name: string): Promise<void> {
  const session = await loadSyncSession(projectDir, name);
  let syncError: unknown;
  if (session) {
    await syncBack(backend, session).catch((e: unknown) => {
      syncError = e;
    });
  }
  await backend.stop(name);
  if (syncError !== undefined) throw syncError;
}

/** Stops every running sandbox; one failure does not keep the others running. */
async function stopAll(stop: (name: string) => Promise<void>, names: readonly string[], json: boolean): Promise<void> {
  const results = await Promise.allSettled(names.map((n) => stop(n)));
  const stopped: string[] = [];
  const failed: { name: string; error: string }[] = [];
  results.forEach((r, i) => {
    const n = names[i] ?? "";
    if (r.status === "fulfilled") stopped.push(n);
    else failed.push({ name: n, error: formatError(r.reason) });
  });
  if (json) printJson({ stopped, failed });
  else {
    // Names come from the server's metrics answer: inert before they reach a terminal.
    for (const n of stopped) printLine(neutraliseControls(n));
    for (const f of failed) note(`${neutraliseControls(f.name)}: ${f.error}`);
    if (names.length === 0) note("no running sandboxes");
  }
  if (failed.length > 0) process.exitCode = ExitCodes.FAILURE;
}
