import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fallbackGeneratedDir } from "../../../src/config/index.js";

describe("fallbackGeneratedDir", () => {
  it("is per project under $XDG_CACHE_HOME, else ~/.cache", () => {
    const a = fallbackGeneratedDir("/p/one", { XDG_CACHE_HOME: "/c" });
    const b = fallbackGeneratedDir("/p/two", { XDG_CACHE_HOME: "/c" });
    expect(path.dirname(a)).toBe("/c/microsandbox-volumes/generated");
    expect(a).not.toBe(b);
    expect(fallbackGeneratedDir("/p/one/", { XDG_CACHE_HOME: "/c" })).toBe(a);
    expect(path.dirname(fallbackGeneratedDir("/p/one", { HOME: "/h" }))).toBe("/h/.cache/microsandbox-volumes/generated");
    // A relative XDG_CACHE_HOME is invalid per the XDG spec and ignored.
    expect(path.dirname(fallbackGeneratedDir("/p/one", { XDG_CACHE_HOME: "rel", HOME: "/h" }))).toBe("/h/.cache/microsandbox-volumes/generated");
  });
});
