import { describe, expect, it } from "vitest";
import { serverSeconds } from "../../../src/client/seconds.js";

describe("serverSeconds", () => {
  it("sends the client's own limit as the server timeout so the server stops the code too", () => {
    expect(serverSeconds(undefined, "timeout", undefined)).toBeUndefined();
    expect(serverSeconds(30, "timeout", undefined)).toBe(30);
    expect(serverSeconds(undefined, "timeout", 1500)).toBe(2);
    expect(serverSeconds(30, "timeout", 5000)).toBe(5);
    expect(serverSeconds(3, "timeout", 60_000)).toBe(3);
    // 0 means "no server limit": the client's limit applies.
    expect(serverSeconds(0, "timeout", 4000)).toBe(4);
  });

  it("still validates the seconds", () => {
    expect(() => serverSeconds(-1, "timeout", 1000)).toThrow(/non-negative/);
  });
});
