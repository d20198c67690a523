import { describe, expect, it } from "vitest";
import { parkedReplFits } from "../../../../../src/server/runtime/pool/parked-repl.js";

const base: Array<[string, string]> = [
  ["PATH", "/usr/bin:/bin"],
  ["HOME", "/home/python-user"],
  ["LANG", "C.UTF-8"],
  ["PYTHONIOENCODING", "utf-8"],
];

describe("parkedReplFits", () => {
  it("keeps the parked REPL when only variables read at run time differ", () => {
    expect(parkedReplFits(base, base)).toBe(true);
    expect(parkedReplFits(base, [...base, ["FOO", "bar"], ["TMPDIR", "/w/tmp"]])).toBe(true);
    expect(parkedReplFits(base, [["PATH", "/custom:/usr/bin"], ...base.slice(1)])).toBe(true);
    // The same value as the base is no difference.
    expect(parkedReplFits(base, [...base.slice(0, 2), ["LANG", "C.UTF-8"], ["PYTHONIOENCODING", "utf-8"]])).toBe(true);
  });

  it.each([
    ["PYTHONPATH", "/opt"],
    ["PYTHONHASHSEED", "0"],
    ["PYTHONIOENCODING", "latin-1"],
    ["LANG", "C"],
    ["LANGUAGE", "fr"],
    ["LC_ALL", "C"],
    ["TZ", "UTC"],
    ["HOME", "/w"],
    ["LD_PRELOAD", "/w/x.so"],
    ["MALLOC_ARENA_MAX", "2"],
    ["GLIBC_TUNABLES", "glibc.malloc.check=3"],
  ])("starts a fresh one when %s is set to something else", (key, value) => {
    const final = new Map(base);
    final.set(key, value);
    expect(parkedReplFits(base, [...final])).toBe(false);
  });

  it("starts a fresh one when a start-up variable of the base is removed", () => {
    expect(
      parkedReplFits(
        base,
        base.filter(([key]) => key !== "LANG"),
      ),
    ).toBe(false);
  });
});
