import { internalError } from "../protocol/json-rpc.js";
import { errorText, type MethodContext } from "./context.js";
import { forwardTarget, optionalTimeout, requiredString, wireLines } from "./forwarded.js";
import { LANGUAGES } from "../runtime/driver-argv.js";

/**
 * `sandbox.repl.run` (docs/protocol.md#repl-run). Evaluation problems are stderr lines with status "success";
 * only request problems and runtime failures are errors. `language` is echoed exactly as sent.
 */
export async function sandboxReplRun(params: unknown, ctx: MethodContext, hungUp?: AbortSignal): Promise<unknown> {
  const target = forwardTarget(params, ctx);
  const code = requiredString(target.params, "code", "sandbox.repl.run");
  const language = requiredString(target.params, "language", "sandbox.repl.run");
  const timeout = optionalTimeout(target.params, "sandbox.repl.run");
  const engine = LANGUAGES[language.toLowerCase()];
  if (engine === undefined) throw internalError(`sandbox.repl.run: unsupported language '${language}'`);
  let lines: Awaited<ReturnType<MethodContext["runtime"]["runRepl"]>>;
  try {
    lines = await ctx.runtime.runRepl(target.name, engine, code, timeout, hungUp);
  } catch (err) {
    throw internalError(`repl in sandbox ${target.name} failed: ${errorText(err)}`, err);
  }
  return { language, output: wireLines(lines), status: "success" };
}
