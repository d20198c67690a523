import { posix } from "node:path";
import type { SandboxBackend, CallOptions } from "../backend/backend.js";
import type { ResolvedSandboxConfig } from "../config/types.js";
import { ErrorCodes } from "../errors/codes.js";
import { HostPathError, SandboxStateError, ServerError } from "../errors/errors.js";
import type { ResolvedVolume } from "../volumes/types.js";
import type { SharedFilesystemMapping } from "./sandbox-options.js";

const WAYS_OUT =
  "either declare a shared filesystem (`[server] shared_filesystem` in microsandbox.toml or the " +
  "`sharedFilesystem` option, mapping host prefixes to the server's paths) or use sync mode " +
  '(`mode = "sync"` in `[server]` or the `sync: true` option: the folders are copied in at start and back at stop), or point MSB_SERVER_URL at a server on this machine';

/**
 * Guard 1 (docs/protocol.md#limit-server-paths): the legacy server resolves volume paths on its own filesystem, so host
 * paths only mean something if the server runs here or sees our files through a shared
 * filesystem. Returns the volumes as the server must see them (mapped through the shared filesystem).
 */
export function volumesForServer(
  volumes: readonly ResolvedVolume[],
  localHostPaths: boolean,
  serverUrl: string,
  shared: readonly SharedFilesystemMapping[] | undefined,
): ResolvedVolume[] {
  if (localHostPaths || volumes.length === 0) return [...volumes];
  if (!shared || shared.length === 0) {
    throw new HostPathError(
      ErrorCodes.REMOTE_HOST_PATHS,
      `Refusing to send host-path volumes (${volumes.map((v) => `${v.host}:${v.guest}`).join(", ")}) to ${serverUrl}: ` +
        "that server is not on this machine and would mount its own folders of the same name",
      { hint: WAYS_OUT, details: { serverUrl, volumes: volumes.map((v) => v.host) } },
    );
  }
  // Longest prefix first, so nested mappings win over their parents.
  const mappings = [...shared]
    .map((m) => ({ host: trimSlash(m.hostPrefix), server: trimSlash(m.serverPrefix) }))
    .sort((a, b) => b.host.length - a.host.length);
  return volumes.map((v) => {
    const m = mappings.find((mp) => v.host === mp.host || v.host.startsWith(`${mp.host}/`) || mp.host === "");
    if (!m) {
      throw new HostPathError(
        ErrorCodes.REMOTE_HOST_PATHS,
        `Volume host path ${v.host} is not under any shared filesystem prefix (${mappings.map((mp) => mp.host || "/").join(", ")}) declared for ${serverUrl}`,
        { hint: `add a sharedFilesystem mapping that covers ${v.host}, or ${WAYS_OUT}`, details: { host: v.host } },
      );
    }
    return { ...v, host: posix.join(m.server || "/", v.host.slice(m.host.length)) };
  });
}

function trimSlash(p: string): string {
  return p.replace(/\/+$/, "");
}

/** Same volume set, order-insensitive. */
export function sameVolumes(a: readonly ResolvedVolume[], b: readonly ResolvedVolume[]): boolean {
  const key = (v: ResolvedVolume) => `${v.host}\0${v.guest}\0${v.readonly}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * Guard 2 (docs/protocol.md#limit-running-start): starting a name that is already running does not apply new
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
