// Sync mode: for servers on another machine, where host-path volumes cannot be mounted. The workspace
// is copied into the sandbox after start and back before stop, through the legacy command API.
export { syncIn } from "./sync-in.js";
export { SyncConflictError } from "./sync-conflict-error.js";
export { syncBack, CONFLICT_SUFFIX } from "./sync-back.js";
export { loadSyncSession, syncStatePath } from "./state-file.js";
export { syncInOrResume, isSandboxRunning } from "./resume.js";
export { planIn, planBack, type TreeListing, type InPlan, type BackPlan, type PlannedConflict } from "./diff.js";
export type {
  SyncVolume,
  SyncOptions,
  SyncSession,
  SyncReport,
  SyncConflict,
  ConflictReason,
  Manifest,
  ManifestEntry,
  VolumeState,
} from "./types.js";
