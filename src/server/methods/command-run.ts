import { internalError } from "../protocol/json-rpc.js";
import { errorText, type MethodContext } from "./context.js";
import { forwardTarget, optionalTimeout, requiredString, wireLines } from "./forwarded.js";

/**
 * `sandbox.command.run` (docs/protocol.md#command-run): no shell; spawn failure and timeout are generic 500s, a
 * non-zero exit is a success with `success: false`.
 */
export async function sandboxCommandRun(params: unknown, ctx: MethodContext, hungUp?: AbortSignal): Promise<unknown> {
  const target = forwardTarget(params, ctx);
  const command = requiredString(target.params, "command", "sandbox.command.run");
  const args = target.params.args ?? [];
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === "string")) {
    throw internalError("sandbox.command.run: 'args' must be a list of strings");
  }
  const timeout = optionalTimeout(target.params, "sandbox.command.run");
  let result: Awaited<ReturnType<MethodContext["runtime"]["runCommand"]>>;
  try {
    result = await ctx.runtime.runCommand(target.name, command, args, timeout, hungUp);
  } catch (err) {
    throw internalError(`command '${command}' in sandbox ${target.name} failed: ${errorText(err)}`, err);
  }
  // Keys in the legacy (alphabetical) order.
  return {
    args,
    command,
    exit_code: result.exitCode,
    output: wireLines(result.output),
    success: result.exitCode === 0,
  };
}
