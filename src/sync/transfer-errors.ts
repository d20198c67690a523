import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import type { SandboxTarget } from "./sandbox-shell.js";

export function tooLarge(target: SandboxTarget, step: string, what: string, size: number | undefined, limit: number): SyncError {
  return new SyncError(ErrorCodes.SYNC_TOO_LARGE, `Sync ${step} refused: the sandbox "${target.name}" ${what}, over the ${limit}-byte limit`, {
    hint: "nothing on the host was changed by this step; if the folder really is this large, raise `maxTransferBytes` or sync a smaller folder",
    details: { step, sandbox: target.name, ...(size !== undefined ? { size } : {}), limit },
  });
}

export function corrupt(target: SandboxTarget, step: string, what: string): SyncError {
  return new SyncError(ErrorCodes.SYNC_FAILED, `Sync ${step} failed: the sandbox "${target.name}" sent corrupt data: ${what}`, {
    hint: "retry the stop; if it persists, something in the sandbox writes to the sync command's output (nothing on the host was changed by this step)",
    details: { step, sandbox: target.name },
  });
}
