import type { SandboxBackend, CallOptions } from "../backend/backend.js";
import type { ResolvedSandboxConfig } from "../config/types.js";
import { ErrorCodes } from "../errors/codes.js";
import { SandboxStateError, ServerError } from "../errors/errors.js";
import type { ResolvedVolume } from "../volumes/types.js";

/** Same volume set, order-insensitive. */
export function sameVolumes(a: readonly ResolvedVolume[], b: readonly ResolvedVolume[]): boolean {
  const key = (v: ResolvedVolume) => `${v.host}\0${v.guest}\0${v.readonly}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * Volume-change guard (docs/protocol.md#limit-running-start): starting a name that is already running does not apply new
 * volumes on the legacy server; the old mounts stay. If the volume set changed since the last start
 * and the sandbox is running, refuse instead of silently running with the wrong mounts. When it is
 * not running we proceed (the legacy server's stale mounts across restarts, docs/protocol.md#limit-stale-mounts, is a
 * server-side VM issue the client cannot fix).
 */
export async function guardVolumeChange(
  backend: SandboxBackend,
  previous: ResolvedSandboxConfig | undefined,
  next: ResolvedSandboxConfig,
  options: CallOptions | undefined,
): Promise<void> {
  if (!previous || sameVolumes(previous.volumes, next.volumes)) return;
  let running = false;
  try {
    const rows = await backend.metrics(next.name, options);
    running = rows.some((r) => r.name === next.name && r.running);
  } catch (err) {
    // The legacy server answers 500 for names it does not know: not running. Other failures
    // (unreachable server, auth) would fail the start anyway, so report them now.
    if (!(err instanceof ServerError && err.code === ErrorCodes.SERVER_ERROR)) throw err;
  }
  if (!running) return;
  const fmt = (vs: readonly ResolvedVolume[]) => (vs.length ? vs.map((v) => `${v.host}:${v.guest}`).join(", ") : "(none)");
  throw new SandboxStateError(
    ErrorCodes.VOLUME_CONFLICT,
    `Sandbox ${next.name} is running with volumes ${fmt(previous.volumes)}; the requested volumes ${fmt(next.volumes)} ` +
      "would not be applied (the server keeps the mounts of a running sandbox)",
    {
      hint: `stop it first (\`await sandbox.stop()\` in the session that started it, or \`new RpcBackend({ url }).stop("${next.name}")\`), or use another sandbox name`,
      details: { name: next.name },
    },
  );
}
