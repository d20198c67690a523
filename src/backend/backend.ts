import type {
  WireCommandResult,
  WireMetricsRow,
  WireReplResult,
  WireStartConfig,
} from "./wire.js";
import type { FileChannel } from "./file-channel.js";

/** Per-call controls every backend method honours. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overall time limit for this call in milliseconds. */
  timeoutMs?: number;
}

/** What a backend can enforce; the client refuses options a backend cannot honour. */
export interface BackendCapabilities {
  /** Read-only mounts are enforced. */
  readonlyVolumes: boolean;
  /** Host paths in volumes resolve on this machine's filesystem. */
  localHostPaths: boolean;
}

/**
 * The one seam between the public classes and a runtime. Today: the legacy JSON-RPC server
 * (or our dev server, which speaks the same wire). Next: the embedded microsandbox 0.6 runtime.
 */
export interface SandboxBackend {
  readonly capabilities: BackendCapabilities;
  start(name: string, config: WireStartConfig, options?: CallOptions): Promise<string>;
  stop(name: string, options?: CallOptions): Promise<string>;
  runCode(
    name: string,
    language: string,
    code: string,
    timeoutSeconds: number | undefined,
    options?: CallOptions,
  ): Promise<WireReplResult>;
  runCommand(
    name: string,
    command: string,
    args: string[],
    timeoutSeconds: number | undefined,
    options?: CallOptions,
  ): Promise<WireCommandResult>;
  metrics(name: string | undefined, options?: CallOptions): Promise<WireMetricsRow[]>;
  /**
   * Optional: a raw file channel for sync mode when the server offers one (our dev server's extra,
   * docs/protocol.md#dev-sync-channel); `undefined` when it does not. Without it sync uses `runCommand`.
   */
  fileChannel?(options?: CallOptions): Promise<FileChannel | undefined>;
}
