// The resolved sandbox config the backend seam hands to `start` (see src/backend/backend.ts).
// Kept here with exactly that shape so this folder does not depend on the legacy wire config;
// the coordinator points the seam at it.

/** One volume after the host-path policy: the host path is absolute, canonical and checked. */
export interface EmbeddedVolume {
  host: string;
  guest: string;
  readonly: boolean;
}

export interface EmbeddedSandboxConfig {
  name: string;
  image: string;
  /** MiB. */
  memory: number;
  cpus: number;
  volumes: EmbeddedVolume[];
  /** `host:guest` or a single port (same number on both sides). */
  ports: string[];
  /** `NAME=value`. */
  envs: string[];
  /** Sandboxes started (in order) before this one. */
  dependsOn: string[];
  workdir?: string;
  shell?: string;
  scripts?: Record<string, string>;
  exec?: string;
}
