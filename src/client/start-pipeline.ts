import type { CallOptions, SandboxBackend, StartCallOptions } from "../backend/backend.js";
import { RpcBackend } from "../backend/rpc-backend.js";
import { InvalidOptionError } from "../errors/errors.js";
import { readRecordedStart, recordStart, resolveSandbox } from "../config/index.js";
import type { BackendKind } from "../config/option-rules.js";
import type { ResolvedSandboxConfig, ResolvedServerConfig, SandboxCallOptions } from "../config/types.js";
import { isSandboxRunning, syncInOrResume, type SyncSession } from "../sync/index.js";
import { guardVolumeChange } from "./guards.js";
import type { SandboxOptions } from "./sandbox-options.js";

export interface StartInput {
  kind: "python" | "node";
  /** The class's `getDefaultImage()`: one source for the default, so upstream-style subclasses are honoured. */
  defaultImage?: string;
  /** The raw options (constructor options with any `start()` arguments on top); resolved here only. */
  options: SandboxOptions;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface StartedSandbox {
  backend: SandboxBackend;
  sandbox: ResolvedSandboxConfig;
  serverUrl: string;
  apiKey: string | undefined;
  /** Where the record went; undefined when neither the project nor the user cache was writable. */
  generatedConfigPath: string | undefined;
  /** The server's start message. */
  message: string;
  /** Sync mode: what copy-in sent, for the copy-back in stop(). */
  sync?: SyncSession;
}

/**
 * THE start path and the one place options are resolved: resolve (file + env + call options,
 * validated, host paths canonical and policy-checked, readonly checked against the backend's
 * capabilities) → volume-change guard → `backend.start(spec)`, which hands its exact request to the
 * generated file just before sending it. Validation runs before anything is written or sent.
 */
export async function startSandbox(input: StartInput): Promise<StartedSandbox> {
  const { options } = input;
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const injected = typeof options.backend === "object" ? options.backend : undefined;
  if (injected && options.sharedFilesystem) {
    throw new InvalidOptionError("sharedFilesystem is ignored when a backend is passed: the backend converts volumes for its server", {
      hint: "pass the mapping to the backend instead, e.g. new RpcBackend({ url, sharedFilesystem: [...] })",
    });
  }
  let backend = injected;
  // The backend the resolved `backend` kind names, built once. The embedded one is imported only
  // when chosen, so RPC users never load its native addon.
  const backendFor = async (server: ResolvedServerConfig, kind: BackendKind): Promise<SandboxBackend> =>
    (backend ??=
      kind === "embedded"
        ? await embeddedBackend(options, (name) => dependencySpec(input, name))
        : new RpcBackend({
            url: server.url,
            ...(server.apiKey ? { apiKey: server.apiKey } : {}),
            ...((options.sharedFilesystem ?? server.sharedFilesystem)
              ? { sharedFilesystem: options.sharedFilesystem ?? server.sharedFilesystem }
              : {}),
          }));
  const resolved = await resolveSandbox({
    kind: input.kind,
    ...(input.defaultImage !== undefined ? { defaultImage: input.defaultImage } : {}),
    options: toCallOptions(options),
    ...(input.cwd !== undefined ? { cwd: input.cwd } : {}),
    ...(input.env !== undefined ? { env: input.env } : {}),
    // Asked only when a volume is readonly: a legacy server answers "method not found" → refused.
    readonlySupported: async (srv, kind) => (await (await backendFor(srv, kind)).capabilities(call)).readonlyVolumes,
  });
  const { sandbox, server, projectDir } = resolved;
  const used = await backendFor(server, resolved.backend);

  // Sync mode copies the folders in after start and back in stop(), so host paths never reach the
  // server and the remote-host-paths refusal does not apply; the guest folders are made by sync-in.
  const syncMode = (options.sync ?? server.mode === "sync") && sandbox.volumes.length > 0;
  let generatedConfigPath: string | undefined;
  let recorded = false;
  // Called by the backend once its request is built (so its own refusals, e.g. host paths for a
  // remote server, come before any request) and before it is sent: the volume-change guard asks the
  // server, then the generated [wire] table records exactly the request the backend sends. The
  // record never fails the start: it falls back to the user cache, then to no record, with a warning.
  const record = async (request: Readonly<Record<string, unknown>>) => {
    const previous = await readRecordedStart(projectDir, sandbox.name);
    await guardVolumeChange(used, previous, sandbox, call);
    generatedConfigPath = await recordStart(projectDir, sandbox, server.url, request);
    recorded = true;
  };

  const wasRunning = syncMode && (await isSandboxRunning(used, sandbox.name, call));
  const startOptions: StartCallOptions = {
    ...call,
    ...(options.timeout !== undefined ? { startTimeoutSeconds: options.timeout } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    onRequest: record,
  };
  const message = await used.start(syncMode ? { ...sandbox, volumes: [] } : sandbox, startOptions);
  // The seam's contract is that start() calls onRequest first; a backend that did not still leaves
  // the resolved sandbox on record.
  if (!recorded) generatedConfigPath = await recordStart(projectDir, sandbox, server.url, {});
  let sync: SyncSession | undefined;
  if (syncMode) {
    try {
      const volumes = sandbox.volumes.map(({ host, guest }) => ({ host, guest }));
      sync = await syncInOrResume(used, sandbox.name, volumes, { ...call, stateDir: projectDir, wasRunning });
    } catch (err) {
      // The host is unchanged; do not leave a half-filled sandbox running (one that ran before is not ours to stop).
      if (!wasRunning) await used.stop(sandbox.name).catch(() => undefined);
      throw err;
    }
  }
  return { backend: used, sandbox, serverUrl: server.url, apiKey: server.apiKey, generatedConfigPath, message, ...(sync ? { sync } : {}) };
}

/**
 * A `depends_on` sandbox for the embedded backend (which has no server to remember it): resolved from
 * the same microsandbox.toml, env and working folder as the sandbox that names it, through the same
 * checks (volumes included), so a dependency is started exactly as `create({ name })` would start it.
 */
export async function dependencySpec(input: StartInput, name: string): Promise<ResolvedSandboxConfig> {
  const { configPath } = input.options;
  const resolved = await resolveSandbox({
    kind: input.kind,
    options: { name, ...(configPath !== undefined ? { configPath } : {}) },
    ...(input.cwd !== undefined ? { cwd: input.cwd } : {}),
    ...(input.env !== undefined ? { env: input.env } : {}),
    readonlySupported: true,
  });
  return resolved.sandbox;
}

/** The embedded backend, loaded lazily; it mounts this machine's folders, so a server mapping means a mistake. */
async function embeddedBackend(
  options: SandboxOptions,
  resolveDependency: (name: string) => Promise<ResolvedSandboxConfig>,
): Promise<SandboxBackend> {
  if (options.sharedFilesystem) {
    throw new InvalidOptionError('sharedFilesystem is for a server on another machine; backend "embedded" mounts this machine\'s folders directly', {
      hint: 'drop sharedFilesystem, or use backend "rpc" for a remote server',
    });
  }
  const { EmbeddedBackend } = await import("../backend/embedded/index.js");
  return new EmbeddedBackend({ resolveDependency });
}

/** Drops the client-only fields before handing the options to the config layer. */
function toCallOptions(options: SandboxOptions): SandboxCallOptions {
  const { signal: _s, timeoutMs: _t, backend, sharedFilesystem: _f, sync: _y, ...rest } = options;
  return typeof backend === "string" ? { ...rest, backend } : rest;
}
