import type { ResolvedVolume } from "../volumes/types.js";

/**
 * The fully resolved configuration of one sandbox: file + env + call options merged, validated,
 * host paths canonical. This is what the generated TOML records and what goes on the wire.
 */
export interface ResolvedSandboxConfig {
  name: string;
  image: string;
  /** MiB. */
  memory: number;
  /** Whole CPUs (the wire takes an integer). */
  cpus: number;
  volumes: ResolvedVolume[];
  /** `host:guest` or a single port, as upstream. */
  ports: string[];
  /** `NAME=value`. */
  envs: string[];
  dependsOn: string[];
  workdir?: string;
  shell?: string;
  scripts?: Record<string, string>;
  exec?: string;
}

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
}
