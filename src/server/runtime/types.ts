// Contract between the dev server's HTTP/JSON-RPC layer (src/server/*.ts) and its sandbox runtime
// (src/server/runtime/*). The HTTP layer owns the wire, auth and the Sandboxfile; the runtime owns
// processes. Volumes arrive here already resolved to absolute host paths.
import type { ChildHandlers, RawChildRef, SpawnOptions } from "./supervisor-connection.js";

export interface RuntimeVolume {
  /** Absolute host directory (already resolved against the project dir). */
  host: string;
  /** Absolute guest path. */
  guest: string;
  /** Mounted read-only (read-only bind by descriptor, and read-only idmapped mount as root). */
  readonly?: boolean;
}

export interface RuntimeSandboxSpec {
  name: string;
  /** `microsandbox/python` or `microsandbox/node` (with optional tag/registry prefix). */
  image: string;
  memory?: number;
  cpus?: number;
  volumes: RuntimeVolume[];
  envs: string[];
  workdir?: string;
  shell?: string;
  scripts?: Record<string, string>;
}

export interface RuntimeOutputLine {
  stream: "stdout" | "stderr";
  text: string;
}

export interface RuntimeMetrics {
  running: boolean;
  cpuPercent: number | null;
  memoryMiB: number | null;
  diskBytes: number | null;
}

/** Pre-started sandboxes (dev server `--pool-size`, src/server/runtime/pool/warm-pool.ts). */
export interface RuntimePool {
  /** Waiting sandboxes kept per (image, memory); 0 when off. */
  readonly size: number;
  /** Sandboxes waiting now. */
  readonly ready: number;
  /** Sandboxes the pool means to keep waiting now: `size` for each (image, memory) asked for so far. */
  readonly wanted: number;
  /** Resolves once the pool has stopped starting sandboxes (full for every image asked for). */
  filled(): Promise<void>;
}

export interface SandboxRuntime {
  /** The runtime's pool of pre-started sandboxes, when it has one. */
  readonly pool?: RuntimePool;
  /** Starts (or, if already running, leaves running) the sandbox. Rejects with a clear Error on failure. */
  start(spec: RuntimeSandboxSpec): Promise<void>;
  /** Kills the sandbox's whole process tree. No-op when not running. */
  stop(name: string): Promise<void>;
  isRunning(name: string): boolean;
  /** Volume host folders of a running sandbox that were deleted or replaced since it mounted them. */
  replacedVolumes?(name: string): Promise<string[]>;
  /**
   * Serialised per sandbox. Timeout in seconds; on expiry the run is interrupted and an Error line
   * appended. `hungUp` (the caller stopped waiting) interrupts it the same way, or skips it if queued.
   */
  runRepl(name: string, language: "python" | "node", code: string, timeoutSeconds?: number, hungUp?: AbortSignal): Promise<RuntimeOutputLine[]>;
  /** No shell. Rejects when the executable cannot be spawned, the timeout expires or `hungUp` fires (then it is killed). */
  runCommand(
    name: string,
    command: string,
    args: string[],
    timeoutSeconds?: number,
    hungUp?: AbortSignal,
  ): Promise<{ exitCode: number; output: RuntimeOutputLine[] }>;
  metrics(name: string): Promise<RuntimeMetrics>;
  /**
   * Dev-server extra for the sync file channel (src/server/runtime/sandbox-file-stream.ts): runs `argv`
   * inside the sandbox like runCommand, but hands over raw output chunks and gives it a private input
   * fd 3 (bulk bytes as raw frames, flow-controlled by acks; stdout flow-controlled by `options.credit`).
   * Optional: a runtime without it has no file channel (the server then does not advertise one).
   */
  spawnRaw?(name: string, argv: string[], handlers: ChildHandlers, options?: SpawnOptions): Promise<RawChildRef>;
  /** Stops every sandbox. */
  shutdown(): Promise<void>;
}
