import type { Command } from "commander";
import type { LoadedConfig } from "../../config/types.js";
import { MsbvError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import {
  checkAuth,
  checkBwrap,
  checkContainment,
  checkDeclared,
  checkEmbedded,
  checkKvm,
  checkNode,
  checkServer,
  serverIsLocal,
  type DoctorCheck,
} from "../doctor-checks.js";
import { ExitCodes, withoutHint } from "../format-error.js";
import { printJson, printLine } from "../output.js";
import { serverTarget } from "../server-target.js";
import { findConfig } from "../target.js";
import { rejectTail } from "./tail.js";

/**
 * `msbv doctor`: checks what msbv needs, each with its fix. Exit 1 when a required check fails.
 * Never throws for a failed check: every problem is reported, not only the first.
 */
export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command("doctor")
    .description("check the server, auth, bubblewrap, KVM, the embedded backend, Node and the declared host paths")
    .option("--json", "print {ok, checks: [...]} as JSON")
    .action(async (opts: { json?: boolean }) => {
      rejectTail(ctx, "doctor");
      const checks = await runChecks();
      const okAll = checks.every((c) => c.status !== "fail" || !c.required);
      if (opts.json) printJson({ ok: okAll, checks });
      else for (const c of checks) printCheck(c);
      if (!okAll) process.exitCode = ExitCodes.FAILURE;
    });
}

async function runChecks(): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [checkNode()];
  let config: LoadedConfig | undefined;
  try {
    config = await findConfig();
    checks.push(
      config
        ? { id: "config", status: "ok", required: true, detail: config.path }
        : { id: "config", status: "info", required: false, detail: "no microsandbox.toml (run `msbv init` to create one)" },
    );
  } catch (err) {
    if (!(err instanceof MsbvError)) throw err;
    checks.push({ id: "config", status: "fail", required: true, detail: withoutHint(err), fix: err.hint ?? "fix the config file" });
  }
  const server = serverTarget(config);
  const reachable = await checkServer(server);
  checks.push(reachable);
  if (reachable.status === "ok") checks.push(await checkAuth(server));
  // bubblewrap matters only when the server runs here (the dev server); remote servers bring their own.
  checks.push(...(await checkBwrap(serverIsLocal(server))), await checkKvm());
  if (serverIsLocal(server)) checks.push(await checkContainment());
  checks.push(await checkEmbedded(config));
  if (config) checks.push(...(await checkDeclared(config)));
  return checks;
}

function printCheck(check: DoctorCheck): void {
  const label = check.status === "ok" ? "ok  " : check.status === "info" ? "info" : check.required ? "FAIL" : "warn";
  printLine(`${label}  ${check.id}: ${check.detail}`);
  if (check.status === "fail" && check.fix) printLine(`      fix: ${check.fix}`);
}
