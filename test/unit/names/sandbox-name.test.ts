import { describe, expect, it } from "vitest";
import { checkSandboxName } from "../../../src/config/option-rules.js";
import { isValidSandboxName, sandboxNameProblem } from "../../../src/names/sandbox-name.js";
import { validateSandboxName as validateOnWire } from "../../../src/server/protocol/sandbox-name.js";
import { validateSandboxName as validateInRuntime } from "../../../src/server/runtime/state-dir.js";
import { syncStatePath } from "../../../src/sync/state-file.js";

// name, first broken rule (the legacy server reports the first failure in this order).
const CASES: [string, ReturnType<typeof sandboxNameProblem>][] = [
  ["a", undefined],
  ["sandbox-1a2b_3c", undefined],
  ["A9", undefined],
  ["x".repeat(63), undefined],
  ["", "empty"],
  ["x".repeat(64), "too-long"],
  ["é".repeat(32), "too-long"], // 64 UTF-8 bytes: length beats the charset rule
  ["a.b", "bad-characters"],
  ["..", "bad-characters"],
  ["a/b", "bad-characters"],
  ["sp ace", "bad-characters"],
  ["nul\0", "bad-characters"],
  ["é", "bad-characters"],
  ["-bad", "bad-start"],
  ["_x", "bad-start"],
];

describe("sandbox name rule", () => {
  it.each(CASES)("%j → %s", (name, problem) => {
    expect(sandboxNameProblem(name)).toBe(problem);
    expect(isValidSandboxName(name)).toBe(problem === undefined);
  });

  // Every layer that checks names gives the same verdict, because they all call the rule above.
  it.each(CASES)("client config, wire, runtime and sync agree on %j", (name, problem) => {
    const ok = problem === undefined;
    expect(checkSandboxName(name) === undefined).toBe(ok);
    expect(throws(() => validateOnWire(name))).toBe(!ok);
    expect(throws(() => validateInRuntime(name))).toBe(!ok);
    expect(throws(() => syncStatePath(name))).toBe(!ok);
  });
});

function throws(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}
