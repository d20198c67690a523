import { describe, expect, it } from "vitest";
import { quantileSorted, summarize, timeRepeated, verdict } from "../../../bench/lib/stats.mjs";

describe("bench stats", () => {
  it("interpolates quantiles linearly (NumPy default)", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([10, 20, 30, 40, 50], 0.25)).toBe(20);
    expect(quantileSorted([10, 20], 0.95)).toBeCloseTo(19.5);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });

  it("summarizes unsorted samples without mutating them", () => {
    const samples = [5, 1, 4, 2, 3];
    const s = summarize(samples);
    expect(s).toMatchObject({ n: 5, median: 3, p25: 2, p75: 4, min: 1, max: 5, mean: 3 });
    expect(s.p95).toBeCloseTo(4.8);
    expect(samples).toEqual([5, 1, 4, 2, 3]);
  });

  it("judges targets in both directions and refuses non-finite values", () => {
    expect(verdict(1.2, { limit: 1.2, direction: "max" })).toBe("met");
    expect(verdict(1.21, { limit: 1.2, direction: "max" })).toBe("missed");
    expect(verdict(10, { limit: 10, direction: "min" })).toBe("met");
    expect(verdict(9.9, { limit: 10, direction: "min" })).toBe("missed");
    expect(verdict(Number.NaN, { limit: 1, direction: "max" })).toBe("n/a");
  });

  it("drops warm-up iterations and runs before/after hooks around every call", async () => {
    const calls: string[] = [];
    const samples = await timeRepeated({
      warmup: 2,
      reps: 3,
      before: async (i) => calls.push(`b${i}`),
      fn: async (i) => calls.push(`f${i}`),
      after: async (i) => calls.push(`a${i}`),
    });
    expect(samples).toHaveLength(3);
    expect(calls).toEqual(["b0", "f0", "a0", "b1", "f1", "a1", "b2", "f2", "a2", "b3", "f3", "a3", "b4", "f4", "a4"]);
  });
});
