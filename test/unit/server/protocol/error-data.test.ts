import { describe, expect, it } from "vitest";
import { DevServerError, ErrorCodes, SandboxStateError } from "../../../../src/errors/index.js";
import { internalError } from "../../../../src/server/protocol/json-rpc.js";
import { errorData } from "../../../../src/server/protocol/error-data.js";

describe("errorData", () => {
  it("names caller-caused failures found along the cause chain, with their first line and hint", () => {
    const timeout = new DevServerError("Command `sleep 9` timed out after 1 seconds.", { hint: "raise it", details: { reason: "timeout" } });
    expect(errorData(internalError("wrapped", timeout))).toEqual({
      kind: "timeout",
      cause: "Command `sleep 9` timed out after 1 seconds.",
      hint: "raise it",
    });
    const missing = new DevServerError("Cannot run `x`: executable not found (ENOENT).", { details: { reason: "not-found" } });
    expect(errorData(missing)).toEqual({ kind: "executable_not_found", cause: "Cannot run `x`: executable not found (ENOENT)." });
    expect(errorData(new SandboxStateError(ErrorCodes.NOT_STARTED, "gone")).kind).toBe("not_started");
    const replaced = new SandboxStateError(ErrorCodes.VOLUME_CONFLICT, "replaced", { details: { reason: "volume-replaced" } });
    expect(errorData(replaced).kind).toBe("volume_replaced");
  });

  it("keeps everything else internal, with no cause text (host details stay in the log)", () => {
    expect(errorData(new Error("EACCES: /srv/secret/path"))).toEqual({ kind: "internal" });
    expect(errorData(new DevServerError("bwrap failed at /home/me/x"))).toEqual({ kind: "internal" });
    expect(errorData(new SandboxStateError(ErrorCodes.VOLUME_CONFLICT, "a plain conflict"))).toEqual({ kind: "internal" });
  });
});
