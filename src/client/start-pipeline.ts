import type { CallOptions, SandboxBackend } from "../backend/backend.js";
import { RpcBackend } from "../backend/rpc-backend.js";
import { readGeneratedConfig, resolveSandbox, toWireStartConfig, writeGeneratedConfig } from "../config/index.js";
import type { ResolvedSandboxConfig, SandboxCallOptions } from "../config/types.js";
import { isSandboxRunning, syncInOrResume, type SyncSession } from "../sync/index.js";
import { guardVolumeChange, volumesForServer } from "./guards.js";
import type { SandboxOptions } from "./sandbox-options.js";

/** Upstream default start timeout (seconds). */
export const DEFAULT_START_TIMEOUT_S = 180;
/** The start request may take this long beyond the start timeout (upstream Python SDK). */
const START_GRACE_MS = 30_000;

export interface StartInput {
  kind: "python" | "node";
  /** The class's `getDefaultImage()`: one source for the default, so upstream-style subclasses are honoured. */
  defaultImage?: string;
  options: SandboxOptions;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface StartedSandbox {
  backend: SandboxBackend;
  sandbox: ResolvedSandboxConfig;
  serverUrl: string;
  apiKey: string | undefined;
  generatedConfigPath: string;
  /** The server's start message. */
  message: string;
  /** Sync mode: what copy-in sent, for the copy-back in stop(). */
  sync?: SyncSession;
}

/**
 * THE start path: resolve (file + env + call options, validated, host paths canonical and
 * policy-checked) → guards → generated file → `sandbox.start`. Validation and the remote-path guard
 * run before anything is written or sent; the volume-change guard only asks the server for metrics.
 */
export async function startSandbox(input: StartInput): Promise<StartedSandbox> {
  const { options } = input;
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  // The RPC backend is built only after resolution (its URL comes from it), but whether it can
  // enforce read-only mounts is known up front: it cannot (spec §7 point 4).
  const injected = typeof options.backend === "object" ? options.backend : undefined;
  const readonlySupported = injected?.capabilities.readonlyVolumes ?? false;
  const resolved = await resolveSandbox({
    kind: input.kind,
    ...(input.defaultImage !== undefined ? { defaultImage: input.defaultImage } : {}),
    options: toCallOptions(options),
    ...(input.cwd !== undefined ? { cwd: input.cwd } : {}),
    ...(input.env !== undefined ? { env: input.env } : {}),
    readonlySupported,
  });
  const { sandbox, server, projectDir } = resolved;
  // The embedded backend is imported only when chosen, so RPC users never load its native addon.
  const backend =
    injected ??
    (resolved.backend === "embedded"
      ? (await import("../backend/embedded/legacy-seam.js")).embeddedSeamBackend(sandbox)
      : new RpcBackend({ url: server.url, ...(server.apiKey ? { apiKey: server.apiKey } : {}) }));

  // Sync mode copies the folders in after start and back in stop(), so host paths never reach the
  // server and the remote-host-paths refusal does not apply; the guest folders are made by sync-in.
  const syncMode = (options.sync ?? server.mode === "sync") && sandbox.volumes.length > 0;
  const shared = options.sharedFilesystem ?? server.sharedFilesystem;
  const wireVolumes = syncMode ? [] : volumesForServer(sandbox.volumes, backend.capabilities.localHostPaths, server.url, shared);
  const previous = await readGeneratedConfig(projectDir, sandbox.name);
  await guardVolumeChange(backend, previous, sandbox, call);

  const wasRunning = syncMode && (await isSandboxRunning(backend, sandbox.name, call));
  // One object for the file and the request: the generated [wire] table is exactly the body sent.
  const wire = toWireStartConfig({ ...sandbox, volumes: wireVolumes });
  const { path } = await writeGeneratedConfig(projectDir, sandbox, server.url, wire);
  const startTimeoutS = options.timeout ?? DEFAULT_START_TIMEOUT_S;
  const message = await backend.start(sandbox.name, wire, {
    ...call,
    timeoutMs: options.timeoutMs ?? startTimeoutS * 1000 + START_GRACE_MS,
  });
  let sync: SyncSession | undefined;
  if (syncMode) {
    try {
      const volumes = sandbox.volumes.map(({ host, guest }) => ({ host, guest }));
      sync = await syncInOrResume(backend, sandbox.name, volumes, { ...call, stateDir: projectDir, wasRunning });
    } catch (err) {
      // The host is unchanged; do not leave a half-filled sandbox running (one that ran before is not ours to stop).
      if (!wasRunning) await backend.stop(sandbox.name).catch(() => undefined);
      throw err;
    }
  }
  return { backend, sandbox, serverUrl: server.url, apiKey: server.apiKey, generatedConfigPath: path, message, ...(sync ? { sync } : {}) };
}

/** Drops the client-only fields before handing the options to the config layer. */
function toCallOptions(options: SandboxOptions): SandboxCallOptions {
  const { signal: _s, timeoutMs: _t, backend, sharedFilesystem: _f, sync: _y, ...rest } = options;
  return typeof backend === "string" ? { ...rest, backend } : rest;
}
