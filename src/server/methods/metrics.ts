import { internalError, validationError } from "../protocol/json-rpc.js";
import { validateSandboxName } from "../protocol/sandbox-name.js";
import { parseMetricsParams } from "../protocol/start-params.js";
import { errorText, projectDirExists, readEntries, type MethodContext } from "./context.js";

interface MetricsRow {
  name: string;
  running: boolean;
  cpu_usage: number | null;
  memory_usage: number | null;
  disk_usage: number | null;
}

/** `sandbox.metrics.get` (docs/protocol.md#metrics): one row per Sandboxfile entry, or the named one. */
export async function sandboxMetrics(params: unknown, ctx: MethodContext): Promise<{ sandboxes: MetricsRow[] }> {
  const parsed = parseMetricsParams(params);
  if (typeof parsed === "string") throw validationError(`Invalid params for sandbox.metrics.get: ${parsed}`);
  const wanted = parsed.sandbox ?? undefined;
  if (wanted !== undefined) validateSandboxName(wanted);
  if (!(await projectDirExists(ctx))) throw internalError(`project directory ${ctx.state.projectDir} does not exist`);
  const entries = await readEntries(ctx);
  if (entries === undefined) throw internalError(`${ctx.sandboxfile.path} does not exist yet (no sandbox was started)`);
  if (wanted !== undefined && !entries.has(wanted)) throw internalError(`sandbox ${wanted} is not in ${ctx.sandboxfile.path}`);
  const names = wanted !== undefined ? [wanted] : [...entries.keys()];
  const sandboxes = await Promise.all(names.map((name) => row(name, ctx)));
  return { sandboxes };
}

async function row(name: string, ctx: MethodContext): Promise<MetricsRow> {
  let m: Awaited<ReturnType<MethodContext["runtime"]["metrics"]>>;
  try {
    m = await ctx.runtime.metrics(name);
  } catch (err) {
    throw internalError(`could not read metrics of sandbox ${name}: ${errorText(err)}`, err);
  }
  // Legacy: all usages are null whenever the sandbox is not running.
  return m.running
    ? { name, running: true, cpu_usage: m.cpuPercent, memory_usage: whole(m.memoryMiB), disk_usage: whole(m.diskBytes) }
    : { name, running: false, cpu_usage: null, memory_usage: null, disk_usage: null };
}

// The legacy wire has integers for memory (MiB) and disk (bytes).
function whole(value: number | null): number | null {
  return value === null ? null : Math.floor(value);
}
