import type { SandboxSpec } from "./sandbox-spec.js";
import type { WireCommandResult, WireMetricsRow, WireReplResult } from "./wire.js";
import type { FileChannel } from "./file-channel.js";

/** Per-call controls every backend method honours. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overall time limit for this call in milliseconds. */
  timeoutMs?: number;
}

/** Start-specific call options. */
export interface StartCallOptions extends CallOptions {
  /** Seconds the sandbox may take to start (default 180); a backend may add its own grace on top. */
  startTimeoutSeconds?: number;
  /**
   * Every backend calls this exactly once, after its own checks and before it starts anything, with
   * the exact request it is about to send (the RPC backend: the `sandbox.start` config). The client
   * runs its volume-change guard here and records the request in the generated config file; a
   * rejection aborts the start.
   */
  onRequest?: (request: Readonly<Record<string, unknown>>) => Promise<void>;
}

/** What a backend can enforce; the client refuses options a backend cannot honour. */
export interface BackendCapabilities {
  /** Read-only mounts are enforced (writes inside fail with EROFS). */
  readonlyVolumes: boolean;
  /** Host paths in volumes resolve on this machine's filesystem. */
  localHostPaths: boolean;
}

/**
 * The one seam between the public classes and a runtime (described in docs/architecture.md).
 * Today: the legacy JSON-RPC server, or our dev server, which speaks the same wire. Next: the
 * embedded microsandbox runtime. `start` receives the resolved sandbox (volumes as objects, with
 * `readonly`); converting it to a wire format is each backend's own job.
 */
export interface SandboxBackend {
  /** What this backend enforces. May ask the server once (the answer is cached). */
  capabilities(options?: CallOptions): Promise<BackendCapabilities>;
  start(spec: SandboxSpec, options?: StartCallOptions): Promise<string>;
  stop(name: string, options?: CallOptions): Promise<string>;
  runCode(name: string, language: string, code: string, timeoutSeconds: number | undefined, options?: CallOptions): Promise<WireReplResult>;
  runCommand(name: string, command: string, args: string[], timeoutSeconds: number | undefined, options?: CallOptions): Promise<WireCommandResult>;
  metrics(name: string | undefined, options?: CallOptions): Promise<WireMetricsRow[]>;
  /**
   * Optional: a raw file channel for sync mode when the server offers one (our dev server's extra,
   * docs/protocol.md#dev-sync-channel); `undefined` when it does not. Without it sync uses `runCommand`.
   */
  fileChannel?(options?: CallOptions): Promise<FileChannel | undefined>;
}
