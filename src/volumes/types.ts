/**
 * A volume as a user writes it; every form becomes the same {@link ParsedVolume}.
 * - string: the drop-in upstream form `"host:guest"` (no options segment; `:ro` is refused, never ignored).
 * - `{ host, guest, readonly?, create? }`: our object form.
 * - `{ host, mount, readonly?, create? }`: the shape a widely used fork of the Python SDK sends.
 * - `[host, guest]`: a tuple.
 */
export type VolumeSpec = string | VolumeObject | VolumeMountObject | readonly [host: string, guest: string];

/** `{ host, mount }`: `mount` is the guest path (as sent by a widely used fork of the Python SDK). */
export interface VolumeMountObject {
  host: string;
  /** Absolute guest path. */
  mount: string;
  readonly?: boolean;
  create?: boolean;
}

export interface VolumeObject {
  /** Host directory. Relative paths resolve against the config file's folder, else the working directory. */
  host: string;
  /** Absolute guest path, e.g. `/workspace`. */
  guest: string;
  /** Mount read-only. Refused on backends that cannot enforce it (the legacy server). */
  readonly?: boolean;
  /** Create the host directory (recursively) when it does not exist. Default false. */
  create?: boolean;
}

/** A volume after validation, canonicalisation and policy checks: exactly what is mounted. */
export interface ResolvedVolume {
  /** Absolute, canonical (symlinks resolved) host directory. */
  host: string;
  /** Absolute, normalised guest path. */
  guest: string;
  readonly: boolean;
}

/** Where relative host paths resolve and which host roots are allowed. */
export interface HostPathPolicy {
  /** Folder that relative host paths are resolved against (config file folder or cwd). */
  baseDir: string;
  /** Canonical roots under which host paths are allowed. Defaults to [projectDir]. */
  allowedRoots: readonly string[];
  /** Exact canonical paths the user explicitly opted into even though they are normally refused. */
  explicitlyAllowed: readonly string[];
  /** Folders never mountable (e.g. the dev server's own state folder), in addition to the built-in list. */
  extraDenied: readonly string[];
  /**
   * Deny `~/.microsandbox` as a whole (default true). The dev server turns it off because its default
   * project folder lives there; it lists its own state (`.menv`, Sandboxfile, key) in `extraDenied`.
   */
  denyMicrosandboxHome?: boolean;
}

/** A volume after syntax checks only (no filesystem access yet). */
export interface ParsedVolume {
  /** Host path exactly as written (relative, `~/…` or absolute). */
  host: string;
  /** Absolute guest path, normalised (`posix.normalize`, no trailing slash). */
  guest: string;
  readonly: boolean;
  /** Create the host folder when it is missing. */
  create: boolean;
  /** The spec as the user wrote it, for messages (`"./ws:/workspace"` or the object as JSON). */
  source: string;
}

/** What the backend can enforce and whether missing host folders may be created. */
export interface ResolveVolumesOptions {
  /**
   * False for the legacy server: a `readonly` volume is then refused (never silently mounted
   * read-write). A function is asked only when some volume is readonly (it may query the server).
   */
  readonlySupported: boolean | (() => Promise<boolean>);
  /** Create every missing host folder, as if each volume had `create: true`. */
  createMissing?: boolean;
  /** Check everything but create nothing (read-only commands: `msbv doctor`, `msbv config`). */
  dryRun?: boolean;
}
