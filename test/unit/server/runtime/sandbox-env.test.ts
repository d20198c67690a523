import { describe, expect, it } from "vitest";
import { ErrorCodes, InvalidOptionError } from "../../../../src/errors/index.js";
import { MAX_ENV_BYTES, parseEnvs } from "../../../../src/server/runtime/sandbox-env.js";

describe("parseEnvs", () => {
  it("refuses an environment over MAX_ENV_BYTES with a typed error, and takes one just under it", () => {
    const value = (bytes: number) => "x".repeat(bytes);
    // Each entry counts its bytes plus one (its NUL in an environment block).
    expect(parseEnvs([`A=${value(MAX_ENV_BYTES - 3)}`], "s")).toHaveLength(1);
    let error: unknown;
    try {
      parseEnvs([`A=${value(MAX_ENV_BYTES / 2)}`, `B=${value(MAX_ENV_BYTES / 2)}`], "s");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe(ErrorCodes.INVALID_OPTION);
    expect((error as Error).message).toMatch(/over the 65536-byte limit/);
  });

  it("keeps values with newlines, '=', unicode and nothing at all as they are", () => {
    expect(parseEnvs(["A=x\ny=z", "B==1=2", "C=é€😀\u2028", "D="], "s")).toEqual([
      ["A", "x\ny=z"],
      ["B", "=1=2"],
      ["C", "é€😀\u2028"],
      ["D", ""],
    ]);
  });

  // JSON lets a request carry "\ud800": not text, with no UTF-8 form. A cold start failed on it in the
  // launcher with a misleading message while a pooled one stored U+FFFD and went ahead.
  it.each([["V=a\ud800b"], ["V=\udc80"], ["V=😀".slice(0, 3)]])("refuses a lone surrogate (%j) with a typed error", (entry) => {
    let error: unknown;
    try {
      parseEnvs(["OK=1", entry], "s");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe(ErrorCodes.INVALID_OPTION);
    expect((error as Error).message).toContain("#1");
    expect((error as Error).message).toContain("surrogate");
  });

  // The predicate itself is tested where it lives (test/unit/text/lone-surrogate.test.ts).
  it("control: the same surrogates as a well-formed pair are text and kept", () => {
    expect(parseEnvs(["V=\ud83d\ude00"], "s")).toEqual([["V", "😀"]]);
  });
});
