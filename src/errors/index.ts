export { ErrorCodes, type ErrorCode } from "./codes.js";
export { MsbvError, isMsbvError, type MsbvErrorOptions } from "./msbv-error.js";
export {
  ValidationError,
  VolumeSpecError,
  HostPathError,
  InvalidOptionError,
  ConfigError,
  type ConfigIssue,
  ServerError,
  SandboxStateError,
  WorkspaceError,
  SyncError,
  DevServerError,
  UnknownSandboxError,
  ConfigWriteError,
  EmbeddedUnavailableError,
} from "./errors.js";
export { redactSecrets } from "./redact.js";
