// Public entry of microsandbox-volumes: the drop-in legacy SDK surface plus this package's additions.
// Named exports only (upstream had no default export either).

export {
  BaseSandbox,
  PythonSandbox,
  NodeSandbox,
  Execution,
  CommandExecution,
  Command,
  Metrics,
  SandboxOptions,
  SandboxOptionsBuilder,
} from "./client/index.js";
export type {
  RunOptions,
  ExecutionData,
  CommandExecutionData,
  MetricsSnapshot,
  SharedFilesystemMapping,
  OutputLine,
} from "./client/index.js";

export { RpcBackend } from "./backend/rpc-backend.js";
export type { RpcBackendOptions } from "./backend/rpc-backend.js";
export type { SandboxBackend, BackendCapabilities, CallOptions, StartCallOptions } from "./backend/backend.js";
export type { SandboxSpec } from "./backend/sandbox-spec.js";
// The legacy wire shapes are the RPC backend's business and stay out of the public root.

export type { SandboxCallOptions, ResolvedSandboxConfig, ResolvedServerConfig } from "./config/types.js";
export type { VolumeSpec, VolumeObject, VolumeMountObject, ResolvedVolume } from "./volumes/types.js";

export { Workspace } from "./workspace/index.js";
export type {
  WorkspaceEntry,
  WorkspaceOptions,
  ListOptions,
  WriteOptions,
  RemoveOptions,
  FileDigest,
} from "./workspace/index.js";

export { syncIn, syncBack, loadSyncSession, CONFLICT_SUFFIX, SyncConflictError } from "./sync/index.js";
export type { SyncVolume, SyncOptions, SyncSession, SyncReport, SyncConflict, ConflictReason } from "./sync/index.js";

export {
  ErrorCodes,
  MsbvError,
  isMsbvError,
  ValidationError,
  VolumeSpecError,
  HostPathError,
  InvalidOptionError,
  ConfigError,
  ServerError,
  SandboxStateError,
  WorkspaceError,
  SyncError,
  DevServerError,
  redactSecrets,
} from "./errors/index.js";
export type { ErrorCode, MsbvErrorOptions, ConfigIssue } from "./errors/index.js";
