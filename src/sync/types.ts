import type { CallOptions } from "../backend/backend.js";

/** One folder kept in sync: a host folder copied to `guest` inside the sandbox and back. */
export interface SyncVolume {
  /** Absolute host folder (canonical). Every host-side access goes through a Workspace rooted here. */
  host: string;
  /** Absolute guest folder; created in the sandbox by sync-in. */
  guest: string;
}

/** What copy-in left in the sandbox (and therefore what the host had then), per relative path. */
export interface ManifestEntry {
  /** Hex SHA-256 of the content. */
  sha256: string;
  size: number;
}

/** Relative path (`/`-separated) → entry. Only regular files; folders are tracked in {@link VolumeState.dirs}. */
export type Manifest = Map<string, ManifestEntry>;

/** The synced state of one volume: files with digests and folders (so empty ones survive). */
export interface VolumeState {
  files: Manifest;
  dirs: Set<string>;
}

/** Controls of {@link syncIn} and {@link syncBack}. */
export interface SyncOptions extends CallOptions {
  /** Seconds each sandbox-side command may run (server-side `timeout`). Default 300. */
  commandTimeoutSeconds?: number;
  /**
   * Project folder whose `.microsandbox/sync/<sandbox>.json` records the last state both sides agreed
   * on (written by syncIn and syncBack, read by syncIn and `loadSyncSession`). Without it, a guest
   * folder left by an earlier session can only be compared with the host.
   */
  stateDir?: string;
  /**
   * syncIn only: overwrite or delete guest files that hold sandbox changes never synced back.
   * Default false: syncIn refuses (SyncConflictError, reason `sandbox-not-synced-back`) and changes nothing.
   */
  overwriteGuest?: boolean;
  /**
   * Largest single transfer from the sandbox (a listing or an archive of changed files) the client
   * accepts, in bytes; it is held in memory. Larger claims fail with MSBV_SYNC_TOO_LARGE before anything
   * is fetched. Default 1 GiB.
   */
  maxTransferBytes?: number;
  /** Most entries a guest listing may have. Default 1,000,000. */
  maxEntries?: number;
  /**
   * How bytes travel. `"auto"` (default): the server's raw file channel when it advertises one (our dev
   * server, docs/protocol.md#dev-sync-channel), else `sandbox.command.run` with several requests in flight
   * and gzip when the data compresses. `"command"`: always `sandbox.command.run`. `"command-serial"`:
   * `sandbox.command.run` one request at a time without compression (the behaviour before issue 14, for
   * a server that cannot take concurrent commands or lacks gzip). Checks and limits are the same for all.
   */
  channel?: "auto" | "command" | "command-serial";
}

/** Returned by {@link syncIn}; hand it to {@link syncBack}. */
export interface SyncSession {
  readonly sandboxName: string;
  /** Sandbox-side scratch folder of this session (under /tmp). */
  readonly scratch: string;
  readonly volumes: readonly { volume: SyncVolume; state: VolumeState }[];
  /** What copy-in did. */
  readonly inReport: SyncReport;
  /** `options.stateDir` of syncIn; syncBack records the synced state there too. */
  readonly stateDir?: string;
}

/** Why a path was not synced back. */
export type ConflictReason =
  /** Host and sandbox both changed the file since copy-in. */
  | "both-modified"
  /** The host changed (or replaced) the file; the sandbox deleted it. */
  | "host-modified-sandbox-deleted"
  /** The host deleted the file; the sandbox changed it. */
  | "host-deleted-sandbox-modified"
  /** The sandbox created a file where the host now has a different file, a link or a special file. */
  | "both-created"
  /** The sandbox removed a folder in which the host has files that copy-in did not send. */
  | "folder-not-empty"
  /** syncIn: the guest file holds sandbox changes that were never synced back; copy-in would destroy them. */
  | "sandbox-not-synced-back";

export interface SyncConflict {
  /** Host folder of the volume. */
  host: string;
  /** Path relative to it. */
  path: string;
  reason: ConflictReason;
  /** Relative path where the sandbox's version was written instead, when it had one. */
  sandboxCopy?: string;
}

/** Counts of one sync direction over all volumes. */
export interface SyncReport {
  /** Files whose content crossed (host → sandbox for sync-in, sandbox → host for sync-back). */
  filesTransferred: number;
  /** Files removed on the receiving side because the sending side no longer has them. */
  filesDeleted: number;
  /** Files identical on both sides, not transferred. */
  filesUnchanged: number;
  /** Bytes of file content transferred (not counting archive and base64 overhead). */
  bytesTransferred: number;
  /** Archive bytes actually sent or received (0 when nothing had to move). */
  archiveBytes: number;
  /** Relative paths (prefixed with the host folder) that were not synced: symlinks, special files, names that are not UTF-8. */
  skipped: string[];
  conflicts: SyncConflict[];
}
