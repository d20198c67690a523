import type { SandboxSpec } from "../backend/sandbox-spec.js";
import type { VolumeSpec } from "../volumes/types.js";
import type { BackendKind } from "./option-rules.js";

/**
 * The fully resolved configuration of one sandbox: file + env + call options merged, validated,
 * host paths canonical. This is what the generated TOML records and what every backend starts
 * (the seam's type, {@link SandboxSpec}; each backend converts it to its own wire).
 */
export type ResolvedSandboxConfig = SandboxSpec;

/** Where the client talks to and how. */
export interface ResolvedServerConfig {
  url: string;
  /** Never logged, never written to the generated file. */
  apiKey?: string;
  /**
   * For a server that is not on this machine: the host paths are visible to the server under the
   * same or a mapped path (e.g. NFS). Without it, host-path volumes against a remote server are refused.
   */
  sharedFilesystem?: { hostPrefix: string; serverPrefix: string }[];
  /** `[server] mode`: how volumes reach the sandbox. Absent: decided by the client (mount when local). */
  mode?: "mount" | "sync";
}

/**
 * What a caller passes to `PythonSandbox.create()` / `NodeSandbox.create()`: the upstream
 * `SandboxOptions` fields plus this package's additions. Every field beats the env and the file.
 */
export interface SandboxCallOptions {
  /** Default: `MSB_SERVER_URL`, then `[server] url`, then `http://127.0.0.1:5555`. */
  serverUrl?: string;
  /** Default: `sandbox-` + 8 hex chars. A name declared in the config file picks up its settings. */
  name?: string;
  /** Default: `MSB_API_KEY`, then the env var named by `[server] api_key_env`. */
  apiKey?: string;
  image?: string;
  /** MiB. Default 512. */
  memory?: number;
  /** Rounded like upstream (`Math.round`). Default 1. */
  cpus?: number;
  /** Merged with the file's volumes by guest path; these win. */
  volumes?: VolumeSpec[];
  ports?: string[];
  /** `NAME=value`; merged with the file's env by name, these win. */
  envs?: string[];
  dependsOn?: string[];
  workdir?: string;
  shell?: string;
  scripts?: Record<string, string>;
  exec?: string;
  /** Seconds (upstream start timeout). Not part of the resolved sandbox. */
  timeout?: number;
  /** Explicit config file; default `MSB_CONFIG`, then the nearest `microsandbox.toml` upwards from cwd. */
  configPath?: string;
  /** Extra host roots or exact paths the volume policy allows (relative ones resolve against the project dir). */
  allowHostPaths?: string[];
  /** Create missing host folders of every volume. Default false (per volume: `create = true`). */
  createVolumeDirs?: boolean;
  /** `"embedded"`: real microVMs through npm `microsandbox` 0.6 in this process. Default: the file, then `"rpc"`. */
  backend?: BackendKind;
}

/** A `[defaults]` or `[sandboxes.<name>]` table after validation (keys camelCased). */
export interface FileSandboxConfig {
  image?: string;
  memory?: number;
  cpus?: number;
  workdir?: string;
  shell?: string;
  /** NAME → value. */
  env?: Record<string, string>;
  ports?: string[];
  dependsOn?: string[];
  scripts?: Record<string, string>;
  /** Host paths as written (relative ones resolve against the file's folder). */
  volumes?: VolumeSpec[];
  /** This sandbox's backend; beats `[server] backend`. */
  backend?: BackendKind;
}

/** The `[server]` table. The key itself is never in the file, only the env var that holds it. */
export interface FileServerConfig {
  url?: string;
  apiKeyEnv?: string;
  sharedFilesystem?: { hostPrefix: string; serverPrefix: string }[];
  mode?: "mount" | "sync";
  /** `[server] backend`: the default backend of every sandbox in the file. */
  backend?: BackendKind;
}

/** A parsed and validated `microsandbox.toml`. */
export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string;
  /** Its folder: the project dir, base of relative host paths. */
  dir: string;
  server: FileServerConfig;
  /** `[policy] allow`, made absolute against `dir`. */
  policy: { allow: string[] };
  defaults: FileSandboxConfig;
  sandboxes: Record<string, FileSandboxConfig>;
}
