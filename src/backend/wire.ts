// Wire shapes of the legacy microsandbox server (docs/protocol.md#sandbox-start and the method sections after it).
// Internal: public classes convert these to their own types.

/** `sandbox.start` params.config. Lists are omitted (never null) when empty; `image` always present. */
export interface WireStartConfig {
  image: string;
  memory: number;
  cpus: number;
  volumes?: string[];
  /**
   * Our extension: guest paths of `volumes` to mount read-only. Sent only to a server that answered
   * `msbv.capabilities` with readonlyVolumes (a legacy server ignores unknown fields, but it would
   * mount read-write, so it is never asked); never `:ro` in the volume string.
   */
  readonly_volumes?: string[];
  ports?: string[];
  envs?: string[];
  depends_on?: string[];
  workdir?: string;
  shell?: string;
  scripts?: Record<string, string>;
  exec?: string;
}

export interface WireOutputLine {
  stream: "stdout" | "stderr";
  text: string;
}

export interface WireReplResult {
  language: string;
  output: WireOutputLine[];
  status: string;
}

export interface WireCommandResult {
  command: string;
  args: string[];
  exit_code: number;
  output: WireOutputLine[];
  success: boolean;
}

export interface WireMetricsRow {
  name: string;
  running: boolean;
  cpu_usage: number | null;
  memory_usage: number | null;
  disk_usage: number | null;
  namespace?: string;
}
