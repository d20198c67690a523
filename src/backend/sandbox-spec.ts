import type { ResolvedVolume } from "../volumes/types.js";

/**
 * What every backend starts: one sandbox, fully resolved (file + env + call options merged and
 * validated, host paths canonical and policy-checked by src/volumes). Volumes are objects with
 * `readonly`; how they travel (the legacy `"host:guest"` string, an embedded runtime's mount list)
 * is the backend's business.
 */
export interface SandboxSpec {
  name: string;
  image: string;
  /** MiB. */
  memory: number;
  /** Whole CPUs. */
  cpus: number;
  /** Mounted parents first by the runtime; nested guest paths are allowed, duplicates are not. */
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
