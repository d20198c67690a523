import { ErrorCodes } from "./codes.js";
import { MsbvError, type MsbvErrorOptions } from "./msbv-error.js";

// One subclass per family so callers can `instanceof` without string matching on codes.

/** Bad user input: volume specs, options, names. Nothing was sent or started. */
export class ValidationError extends MsbvError {}

export class VolumeSpecError extends ValidationError {
  constructor(message: string, options?: MsbvErrorOptions) {
    super(ErrorCodes.INVALID_VOLUME, message, options);
  }
}

export class HostPathError extends ValidationError {}

export class InvalidOptionError extends ValidationError {
  constructor(message: string, options?: MsbvErrorOptions) {
    super(ErrorCodes.INVALID_OPTION, message, options);
  }
}

/** One or more problems in a config file; `issues` holds all of them with locations. */
export class ConfigError extends ValidationError {
  readonly issues: readonly ConfigIssue[];
  constructor(message: string, issues: readonly ConfigIssue[], options?: MsbvErrorOptions) {
    super(ErrorCodes.CONFIG_INVALID, message, options);
    this.issues = issues;
  }
}

export interface ConfigIssue {
  /** Absolute path of the file, when the problem comes from a file. */
  file?: string;
  /** 1-based line and column of the offending key or value, when known. */
  line?: number;
  column?: number;
  /** Dotted key path, e.g. `sandboxes.agent.volumes[0].guest`. */
  keyPath: string;
  message: string;
}

/** The server (or transport) failed. */
export class ServerError extends MsbvError {
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  constructor(code: MsbvError["code"], message: string, status?: number, options?: MsbvErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}

export class SandboxStateError extends MsbvError {}

export class WorkspaceError extends MsbvError {}

export class SyncError extends MsbvError {}

export class DevServerError extends MsbvError {
  constructor(message: string, options?: MsbvErrorOptions) {
    super(ErrorCodes.DEV_SERVER, message, options);
  }
}

/** The embedded microVM backend cannot run on this machine (EMBEDDED_UNAVAILABLE). */
export class EmbeddedUnavailableError extends MsbvError {
  constructor(message: string, options?: MsbvErrorOptions) {
    super(ErrorCodes.EMBEDDED_UNAVAILABLE, message, options);
  }
}

/** A sandbox name was asked for that the config file does not declare (CONFIG_UNKNOWN_SANDBOX). */
export class UnknownSandboxError extends ValidationError {
  constructor(message: string, options?: MsbvErrorOptions) {
    super(ErrorCodes.CONFIG_UNKNOWN_SANDBOX, message, options);
  }
}

/** A config file could not be written, or exists and must not be overwritten (CONFIG_WRITE_FAILED, CONFIG_EXISTS). */
export class ConfigWriteError extends MsbvError {}
