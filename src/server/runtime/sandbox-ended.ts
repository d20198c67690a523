import { ErrorCodes, SandboxStateError } from "../../errors/index.js";

/**
 * What a request gets when its sandbox ended itself instead of serving it: the supervisor's attach,
 * sent with the sandbox's first request (supervisor-connection.ts `attachWithNextRequest`), failed
 * and `reason` is the supervisor's own (`endReason`). One wording for a run, a command, any request.
 */
export function endedBeforeFirstRunError(sandbox: string, reason: string): SandboxStateError {
  return new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${sandbox}" ended before its first run: ${reason}.`, {
    hint: "its workdir could not be made in its /home (in the dev server's state folder): free space there or clear what is in the way, then start the sandbox again",
    details: { sandbox },
  });
}
