import type { Command } from "commander";
import type { WireMetricsRow } from "../../backend/wire.js";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { withoutHint } from "../format-error.js";
import { printJson, printLine } from "../output.js";
import { sandboxNetwork } from "../doctor-checks.js";
import { neutraliseControls } from "../terminal-text.js";
import { backendFor, serverTarget } from "../server-target.js";
import { findConfig } from "../target.js";
import { rejectTail } from "./tail.js";

/** One row of `msbv status`. Usage figures are whatever the server reports (null when unknown). */
export interface StatusRow {
  name: string;
  running: boolean;
  /** Percent. */
  cpuUsage: number | null;
  /** MiB. */
  memoryUsage: number | null;
  /** Bytes. */
  diskUsage: number | null;
  /** Declared in the config file (false when there is no file). */
  declared: boolean;
  /** The server reported this sandbox (declared ones it does not know are listed as not running). */
  onServer: boolean;
}

/** `msbv status`: the server's sandboxes with their metrics, declared ones marked. */
export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command("status")
    .description("list the server's sandboxes with their metrics; declared ones are marked")
    .option("--json", "print {server, configFile, sandboxes: [...]} as JSON")
    .action(async (opts: { json?: boolean }) => {
      rejectTail(ctx, "status");
      const config = await findConfig();
      const server = serverTarget(config);
      const metrics = await backendFor(server)
        .metrics(undefined)
        .catch((err: unknown) => {
          throw explainFreshServer(err);
        });
      const rows = statusRows(metrics, Object.keys(config?.sandboxes ?? {}));
      const network = await fetch(`${server.url.replace(/\/+$/, "")}/api/v1/health`, { signal: AbortSignal.timeout(5_000) })
        .then((res) => res.text())
        .then(sandboxNetwork, () => sandboxNetwork(""));
      if (opts.json) {
        printJson({ server: server.url, configFile: config?.path ?? null, network, sandboxes: rows });
        return;
      }
      printTable(rows);
      printLine(`sandbox network: ${network}`);
    });
}

/** Server rows (sorted by name) followed by declared sandboxes the server does not know. */
export function statusRows(metrics: readonly WireMetricsRow[], declared: readonly string[]): StatusRow[] {
  const declaredSet = new Set(declared);
  const rows: StatusRow[] = [...metrics]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => ({
      name: m.name,
      running: m.running,
      cpuUsage: m.cpu_usage,
      memoryUsage: m.memory_usage,
      diskUsage: m.disk_usage,
      declared: declaredSet.has(m.name),
      onServer: true,
    }));
  const known = new Set(metrics.map((m) => m.name));
  for (const name of declared) {
    if (known.has(name)) continue;
    rows.push({ name, running: false, cpuUsage: null, memoryUsage: null, diskUsage: null, declared: true, onServer: false });
  }
  return rows;
}

/** The legacy server answers a bare metrics call with 500 until its first sandbox exists; say so. */
function explainFreshServer(err: unknown): unknown {
  if (!(err instanceof ServerError) || err.code !== ErrorCodes.SERVER_ERROR || err.status !== 500) return err;
  return new ServerError(err.code, withoutHint(err), err.status, {
    cause: err,
    hint:
      "a microsandbox server answers this with HTTP 500 until its first sandbox was started " +
      "(`msbv up`); otherwise check the server log (or the `msbv dev-server` output)",
  });
}

function printTable(rows: readonly StatusRow[]): void {
  if (rows.length === 0) {
    printLine("no sandboxes");
    return;
  }
  const table = [
    ["NAME", "STATE", "CPU%", "MEM MiB", "DISK", "DECLARED"],
    ...rows.map((r) => [
      neutraliseControls(r.name), // the server chose it
      r.running ? "running" : r.onServer ? "stopped" : "not started",
      figure(r.cpuUsage),
      figure(r.memoryUsage),
      figure(r.diskUsage),
      r.declared ? "yes" : "",
    ]),
  ];
  const widths = (table[0] ?? []).map((_, col) => Math.max(...table.map((row) => row[col]?.length ?? 0)));
  for (const row of table)
    printLine(
      row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join("  ")
        .trimEnd(),
    );
}

function figure(value: number | null): string {
  return value === null ? "-" : String(Math.round(value * 10) / 10);
}
