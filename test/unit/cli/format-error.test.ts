import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  DevServerError,
  ErrorCodes,
  InvalidOptionError,
  ServerError,
  UnknownSandboxError,
  VolumeSpecError,
} from "../../../src/errors/index.js";
import { debugEnabled, ExitCodes, exitCodeFor, formatError, withoutHint } from "../../../src/cli/format-error.js";

describe("exitCodeFor", () => {
  it("maps validation errors to 2, unreachable/auth/timeout to 3, everything else to 1", () => {
    expect(exitCodeFor(new VolumeSpecError("bad"))).toBe(ExitCodes.USAGE);
    expect(exitCodeFor(new InvalidOptionError("bad"))).toBe(ExitCodes.USAGE);
    expect(exitCodeFor(new UnknownSandboxError("who"))).toBe(ExitCodes.USAGE);
    expect(exitCodeFor(new ConfigError("bad", []))).toBe(ExitCodes.USAGE);
    expect(exitCodeFor(new ServerError(ErrorCodes.CONNECTION_FAILED, "refused"))).toBe(ExitCodes.UNREACHABLE);
    expect(exitCodeFor(new ServerError(ErrorCodes.AUTH_FAILED, "401", 401))).toBe(ExitCodes.UNREACHABLE);
    expect(exitCodeFor(new ServerError(ErrorCodes.TIMEOUT, "slow"))).toBe(ExitCodes.UNREACHABLE);
    expect(exitCodeFor(new ServerError(ErrorCodes.SERVER_ERROR, "500", 500))).toBe(ExitCodes.FAILURE);
    expect(exitCodeFor(new DevServerError("no bwrap"))).toBe(ExitCodes.FAILURE);
    expect(exitCodeFor(new Error("boom"))).toBe(ExitCodes.FAILURE);
    expect(exitCodeFor("thrown string")).toBe(ExitCodes.FAILURE);
  });

  it("maps commander's usage errors to 2 and its help/version exits to 0", () => {
    expect(exitCodeFor(new CommanderError(1, "commander.unknownCommand", "unknown"))).toBe(ExitCodes.USAGE);
    expect(exitCodeFor(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"))).toBe(ExitCodes.OK);
  });
});

describe("formatError", () => {
  it("prints error[CODE]: message with the fix hint", () => {
    const text = formatError(new InvalidOptionError("memory must be positive", { hint: "use memory = 512" }));
    expect(text).toBe("error[MSBV_INVALID_OPTION]: memory must be positive\n  Fix: use memory = 512");
  });

  it("adds file:line:col lines for config issues the message does not already list", () => {
    const err = new ConfigError("config file /p/microsandbox.toml has 1 problem", [
      { file: "/p/microsandbox.toml", line: 3, column: 5, keyPath: "sandboxes.a.memory", message: "expected a number" },
    ]);
    expect(formatError(err)).toContain("  /p/microsandbox.toml:3:5: sandboxes.a.memory: expected a number");
    const listed = new ConfigError("config file /p/x.toml has 1 problem:\n  /p/x.toml:3:5 k: bad value", [
      { file: "/p/x.toml", line: 3, column: 5, keyPath: "k", message: "bad value" },
    ]);
    expect(formatError(listed).split("\n")).toHaveLength(2);
  });

  it("redacts API keys and caller-known secrets, and shows the stack only in debug", () => {
    const err = new Error("rejected msb_eyJhbGciOi.payload.sig and hunter22");
    const text = formatError(err, { secrets: ["hunter22"] });
    expect(text).toBe("error: rejected msb_*** and ***");
    expect(text).not.toContain("at ");
    const inner = new Error("inner cause");
    const debug = formatError(new DevServerError("outer", { cause: inner }), { debug: true });
    expect(debug).toContain("DevServerError: outer");
    expect(debug).toContain("caused by: Error: inner cause");
  });

  it("withoutHint drops the appended Fix line", () => {
    expect(withoutHint(new InvalidOptionError("what happened", { hint: "do this" }))).toBe("what happened");
    expect(withoutHint(new InvalidOptionError("no hint"))).toBe("no hint");
  });
});

describe("debugEnabled", () => {
  it("turns on for DEBUG=msbv, msbv:*, * and lists containing them", () => {
    expect(debugEnabled({ DEBUG: "msbv" })).toBe(true);
    expect(debugEnabled({ DEBUG: "msbv:*" })).toBe(true);
    expect(debugEnabled({ DEBUG: "express,msbv" })).toBe(true);
    expect(debugEnabled({ DEBUG: "*" })).toBe(true);
    expect(debugEnabled({ DEBUG: "msbvx" })).toBe(false);
    expect(debugEnabled({})).toBe(false);
  });
});
