import { ErrorCodes } from "../../errors/codes.js";
import { causesOf } from "../../errors/causes.js";
import { MsbvError } from "../../errors/msbv-error.js";

/**
 * Why a call failed, as far as the caller may know. Sent as `data` next to the legacy
 * `{"error":"Internal server error","code":5002}` (legacy clients read only `error`/`code` and
 * ignore it). Only failures caused by the caller's own request get a `cause` text (their command,
 * their timeout, their sandbox name); anything else stays `internal` with the cause in the log only,
 * so host details (paths, errno of the server's own files) never leave the server.
 */
export type ErrorKind = "timeout" | "executable_not_found" | "spawn_failed" | "not_started" | "volume_replaced" | "internal";

export interface ErrorData {
  kind: ErrorKind;
  /** One-line reason, present for every kind but `internal`. */
  cause?: string;
  /** What the caller can change. */
  hint?: string;
}

/** Walks the cause chain for the first runtime error that names a caller-visible reason. */
export function errorData(err: unknown): ErrorData {
  for (const e of causesOf(err)) {
    if (!(e instanceof MsbvError)) continue;
    const kind = kindOf(e);
    if (kind === undefined) continue;
    const cause = e.message.split("\n")[0] ?? "";
    return { kind, cause, ...(e.hint ? { hint: e.hint } : {}) };
  }
  return { kind: "internal" };
}

function kindOf(e: MsbvError): ErrorKind | undefined {
  if (e.code === ErrorCodes.NOT_STARTED) return "not_started";
  if (e.code === ErrorCodes.VOLUME_CONFLICT && e.details.reason === "volume-replaced") return "volume_replaced";
  if (e.code !== ErrorCodes.DEV_SERVER) return undefined;
  switch (e.details.reason) {
    case "timeout":
      return "timeout";
    case "not-found":
      return "executable_not_found";
    case "spawn-failed":
      return "spawn_failed";
    default:
      return undefined;
  }
}
