/**
 * Stable error codes. Codes never change meaning once released; new cases get new codes.
 * The table in docs/errors.md documents each one.
 */
export const ErrorCodes = {
  /** A volume spec (string or object) is malformed: empty side, relative guest, `:` in a path, duplicate… */
  INVALID_VOLUME: "MSBV_INVALID_VOLUME",
  /** A host path is refused by the host-path policy (outside allowed roots, system or credential folder…). */
  HOST_PATH_DENIED: "MSBV_HOST_PATH_DENIED",
  /** A host path does not exist (and `create` was not requested) or is not a directory. */
  HOST_PATH_INVALID: "MSBV_HOST_PATH_INVALID",
  /** `readonly` was requested but the backend cannot enforce it. */
  READONLY_UNSUPPORTED: "MSBV_READONLY_UNSUPPORTED",
  /** Host-path volumes were requested against a server that is not on this machine. */
  REMOTE_HOST_PATHS: "MSBV_REMOTE_HOST_PATHS",
  /** A sandbox option other than volumes is invalid (name, memory, cpus, env, port, script…). */
  INVALID_OPTION: "MSBV_INVALID_OPTION",
  /** `microsandbox.toml` (or MSB_CONFIG) cannot be read, parsed or validated. */
  CONFIG_INVALID: "MSBV_CONFIG_INVALID",
  /** A sandbox name was asked for that the config file does not declare. */
  CONFIG_UNKNOWN_SANDBOX: "MSBV_CONFIG_UNKNOWN_SANDBOX",
  /** A running sandbox (or a remembered one) has a different volume set than requested. */
  VOLUME_CONFLICT: "MSBV_VOLUME_CONFLICT",
  /** The method needs a started sandbox. */
  NOT_STARTED: "MSBV_NOT_STARTED",
  /** The server answered with an error status or error body. */
  SERVER_ERROR: "MSBV_SERVER_ERROR",
  /** The server rejected the credentials (401/403). */
  AUTH_FAILED: "MSBV_AUTH_FAILED",
  /** The server could not be reached (refused, reset, DNS…). */
  CONNECTION_FAILED: "MSBV_CONNECTION_FAILED",
  /** A call exceeded its time limit. */
  TIMEOUT: "MSBV_TIMEOUT",
  /** The caller aborted the call through its AbortSignal. */
  ABORTED: "MSBV_ABORTED",
  /** The server's answer does not have the documented shape. */
  PROTOCOL_ERROR: "MSBV_PROTOCOL_ERROR",
  /** A host-side workspace operation would leave the workspace root or touch a special file. */
  WORKSPACE_ESCAPE: "MSBV_WORKSPACE_ESCAPE",
  /** A workspace path does not exist or is not the expected kind. */
  WORKSPACE_NOT_FOUND: "MSBV_WORKSPACE_NOT_FOUND",
  /** A host-side workspace operation failed for an operating-system reason (permissions, disk full…). */
  WORKSPACE_IO: "MSBV_WORKSPACE_IO",
  /** A host-side workspace read met a file over its size limit (`maxReadBytes`); nothing was read into memory. */
  WORKSPACE_TOO_LARGE: "MSBV_WORKSPACE_TOO_LARGE",
  /** Sync mode found host files changed since copy-in; they were not overwritten. */
  SYNC_CONFLICT: "MSBV_SYNC_CONFLICT",
  /** Sync mode failed to copy the workspace in or back. */
  SYNC_FAILED: "MSBV_SYNC_FAILED",
  /** The local dev server could not start a sandbox or itself (missing bwrap, bad image, port in use…). */
  DEV_SERVER: "MSBV_DEV_SERVER",
  /** A config file could not be written (generated resolved config, `msbv init`). */
  CONFIG_WRITE_FAILED: "MSBV_CONFIG_WRITE_FAILED",
  /** `msbv init` found an existing microsandbox.toml and was not told to overwrite it. */
  CONFIG_EXISTS: "MSBV_CONFIG_EXISTS",
  /** The embedded microVM backend cannot run here: addon missing, no usable KVM, or the VM failed to boot. */
  EMBEDDED_UNAVAILABLE: "MSBV_EMBEDDED_UNAVAILABLE",
  /** A server answer exceeded the client's size limit (`maxResponseBytes`); it was not read further. */
  RESPONSE_TOO_LARGE: "MSBV_RESPONSE_TOO_LARGE",
  /** Sync mode refused data from the sandbox over its limits (size of one transfer, number of entries). */
  SYNC_TOO_LARGE: "MSBV_SYNC_TOO_LARGE",
  /** A volume's host folder is, or contains, the active microsandbox.toml or the project's .microsandbox/ folder. */
  VOLUME_EXPOSES_CONFIG: "MSBV_VOLUME_EXPOSES_CONFIG",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
