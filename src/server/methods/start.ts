import { causesOf } from "../../errors/causes.js";
import { ErrorCodes, HostPathError, SandboxStateError, ValidationError } from "../../errors/index.js";
import { validateConfigStrings } from "../protocol/config-strings.js";
import { internalError, validationError } from "../protocol/json-rpc.js";
import { recordStart } from "../state/received-log.js";
import { validateSandboxName } from "../protocol/sandbox-name.js";
import { parseStartParams, parseStoredEntry, toSandboxfileEntry, type StartConfig } from "../protocol/start-params.js";
import type { RuntimeVolume } from "../runtime/types.js";
import { checkStartVolumes } from "./volumes.js";
import { errorText, readEntries, type MethodContext } from "./context.js";

type EntryConfig = StartConfig & { image: string };
/** An entry with its volumes judged once (src/volumes rules), ready for the runtime. */
type CheckedEntry = { config: EntryConfig; volumes: RuntimeVolume[] };

/** `sandbox.start` (docs/protocol.md#sandbox-start): write or reuse the Sandboxfile entry, then start it unless running. */
export async function sandboxStart(params: unknown, ctx: MethodContext): Promise<string> {
  recordStart(ctx.received, params);
  const parsed = parseStartParams(params);
  if (typeof parsed === "string") throw validationError(`Invalid params for sandbox.start: ${parsed}`);
  const name = parsed.sandbox;
  validateSandboxName(name);

  const image = parsed.config?.image;
  const { config, volumes } =
    parsed.config && image !== undefined ? await writeEntry(name, { ...parsed.config, image }, ctx) : await storedEntry(name, ctx);

  // Legacy: a running sandbox is left alone; new settings apply after stop + start.
  if (ctx.runtime.isRunning(name)) {
    await refuseReplacedVolumes(name, ctx);
    ctx.log(`sandbox ${name} is already running; configuration changes apply after a restart`);
    return `Sandbox ${name} started successfully`;
  }
  try {
    await ctx.runtime.start({
      name,
      image: config.image,
      ...(config.memory !== undefined && { memory: config.memory }),
      ...(config.cpus !== undefined && { cpus: config.cpus }),
      volumes,
      envs: config.envs,
      ...(config.workdir !== undefined && { workdir: config.workdir }),
      ...(config.shell !== undefined && { shell: config.shell }),
      ...(Object.keys(config.scripts).length > 0 && { scripts: config.scripts }),
    });
  } catch (err) {
    const refused = callerRefusal(err);
    if (refused) {
      // The caller gets the message; what stays on the host (where a symlink led, bwrap's words) is logged.
      ctx.log(`sandbox ${name}: refused at start: ${refused.text} ${JSON.stringify(refused.details ?? {})}`);
      throw validationError(`Invalid ${refused.error instanceof HostPathError ? "volume" : "config"} for sandbox '${name}': ${refused.text}`);
    }
    throw internalError(`could not start sandbox ${name}: ${errorText(err)}`, err);
  }
  return `Sandbox ${name} started successfully`;
}

/**
 * A refusal of the caller's own request that only the runtime could make (a ValidationError): a
 * host folder that changed after the check above (src/server/runtime/volume-checks.ts,
 * containment/open-host-dir.ts, state-dir.ts assertNoSymlinkBelow, supervisor-connection.ts for
 * bubblewrap's descriptor re-check: a symlink appeared, the folder moved or went), or an option the
 * runtime bounds (sandbox-env.ts: an environment over its size limit). Not a server fault: 400 with
 * the reason and its code, the same shape as the check's own refusals, instead of a bare 500.
 */
function callerRefusal(err: unknown): { error: ValidationError; text: string; details: ValidationError["details"] } | undefined {
  for (const e of causesOf(err)) {
    if (e instanceof ValidationError) return { error: e, text: `${e.message.replace(/\n\s*/g, " ")} (${e.code})`, details: e.details };
  }
  return undefined;
}

async function writeEntry(name: string, config: EntryConfig, ctx: MethodContext): Promise<CheckedEntry> {
  // Checked before writing so one bad string can never poison the Sandboxfile (intentional deviation).
  validateConfigStrings(config);
  // A missing host folder is refused here too (400, nothing written), as the client refuses it.
  const volumes = await checkStartVolumes(config, ctx.state, { mustExist: true });
  try {
    await ctx.sandboxfile.upsert(name, toSandboxfileEntry(config));
  } catch (err) {
    throw internalError(`could not write ${ctx.sandboxfile.path}: ${errorText(err)}`, err);
  }
  return { config, volumes };
}

async function storedEntry(name: string, ctx: MethodContext): Promise<CheckedEntry> {
  const entries = await readEntries(ctx);
  if (entries === undefined) {
    throw validationError(`No configuration provided and no existing configuration found for sandbox '${name}'`);
  }
  if (!entries.has(name)) throw validationError(`Sandbox '${name}' not found in existing configuration`);
  const stored = parseStoredEntry(entries.get(name));
  if (typeof stored === "string") throw internalError(`Sandboxfile entry '${name}' is invalid: ${stored}`);
  // Hand-edited entries (or folders changed since) get the same checks as a fresh config.
  try {
    validateConfigStrings(stored);
    return { config: stored, volumes: await checkStartVolumes(stored, ctx.state, { mustExist: true }) };
  } catch (err) {
    throw internalError(`Sandboxfile entry '${name}' is invalid: ${errorText(err)}`, err);
  }
}

/**
 * Re-attaching to a running sandbox whose volume host folder was replaced on the host would send
 * every write to the deleted folder (the mount keeps it). Refused with the cause in `data`.
 */
async function refuseReplacedVolumes(name: string, ctx: MethodContext): Promise<void> {
  const replaced = (await ctx.runtime.replacedVolumes?.(name)) ?? [];
  if (replaced.length === 0) return;
  const message = `Sandbox "${name}" is running with volume host folder(s) ${replaced.map((h) => JSON.stringify(h)).join(", ")} that were deleted or replaced since it started; its mounts still point at the old folder(s).`;
  throw internalError(
    message,
    new SandboxStateError(ErrorCodes.VOLUME_CONFLICT, message, {
      hint: "stop the sandbox and start it again to mount the current folder(s)",
      details: { sandbox: name, replaced, reason: "volume-replaced" },
    }),
  );
}
