import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import type { MsbvErrorOptions } from "../errors/msbv-error.js";
import type { SyncReport } from "./types.js";

// Lives with sync because it carries a SyncReport; src/errors stays free of imports from above it.

/**
 * Sync-back applied every change it could but kept host files that changed since copy-in and were also
 * changed in the sandbox (SYNC_CONFLICT). `report` is the full sync report, `conflicts` the kept paths.
 */
export class SyncConflictError extends SyncError {
  readonly report: SyncReport;
  constructor(message: string, report: SyncReport, options?: MsbvErrorOptions) {
    super(ErrorCodes.SYNC_CONFLICT, message, options);
    this.report = report;
  }
  get conflicts(): SyncReport["conflicts"] {
    return this.report.conflicts;
  }
}
