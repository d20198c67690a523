import { internalError, validationError } from "../protocol/json-rpc.js";
import { validateSandboxName } from "../protocol/sandbox-name.js";
import { parseStopParams } from "../protocol/start-params.js";
import { errorText, projectDirExists, readEntries, type MethodContext } from "./context.js";

/** `sandbox.stop` (docs/protocol.md#sandbox-stop): known but not running still succeeds; the entry is kept. */
export async function sandboxStop(params: unknown, ctx: MethodContext): Promise<string> {
  const parsed = parseStopParams(params);
  if (typeof parsed === "string") throw validationError(`Invalid params for sandbox.stop: ${parsed}`);
  const name = parsed.sandbox;
  validateSandboxName(name);
  if (!(await projectDirExists(ctx))) throw validationError("Project directory does not exist");
  const entries = await readEntries(ctx);
  if (entries === undefined) throw validationError("Configuration file not found");
  if (!entries.has(name)) throw internalError(`sandbox ${name} is not in ${ctx.sandboxfile.path}`);
  try {
    await ctx.runtime.stop(name);
  } catch (err) {
    throw internalError(`could not stop sandbox ${name}: ${errorText(err)}`, err);
  }
  return `Sandbox ${name} stopped successfully`;
}
