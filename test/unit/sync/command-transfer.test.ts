import { describe, expect, it } from "vitest";
import { inParallel } from "../../../src/sync/command-transfer.js";

describe("inParallel", () => {
  it("keeps at most `depth` calls running and returns results in input order", async () => {
    let running = 0;
    let most = 0;
    const out = await inParallel([5, 1, 4, 2, 3, 0], 3, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(3);
  });

  it("rejects with the first failure and starts no new calls after it", async () => {
    const started: number[] = [];
    const run = inParallel([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, 1));
      if (n === 1) throw new Error("part 1 failed");
      return n;
    });
    await expect(run).rejects.toThrow("part 1 failed");
    expect(started.length).toBeLessThan(6);
  });
});
