import { describe, expect, it } from "vitest";
import { hasLoneSurrogate } from "../../../src/text/lone-surrogate.js";

describe("hasLoneSurrogate", () => {
  it("tells a lone surrogate from a pair", () => {
    expect(hasLoneSurrogate("😀")).toBe(false);
    expect(hasLoneSurrogate("\ud83d\ude00")).toBe(false);
    expect(hasLoneSurrogate("\ude00\ud83d")).toBe(true);
  });

  it.each([["a\ud800b"], ["\udc80"], ["😀".slice(0, 1)], ["/data/\udfff"]])("finds a lone half anywhere (%j)", (text) => {
    expect(hasLoneSurrogate(text)).toBe(true);
  });

  it("control: plain text, U+FFFD (what a lossy decoder writes instead) and an empty string are text", () => {
    for (const text of ["", "/workspace", "é€\u2028", "\ufffd"]) expect(hasLoneSurrogate(text)).toBe(false);
  });
});
