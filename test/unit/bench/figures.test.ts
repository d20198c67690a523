import { describe, expect, it } from "vitest";
import { computeFigures, ratioOf } from "../../../bench/lib/figures.mjs";

const s = (median: number, min = median, max = median) => ({ median, min, max, n: 3, p25: min, p75: max, p95: max, mean: median });

describe("bench figures", () => {
  it("takes the ratio of medians with a quartile spread, falling back to min/max", () => {
    expect(ratioOf(s(20, 10, 30), s(10, 5, 20))).toEqual({ value: 2, low: 0.5, high: 6 });
    expect(ratioOf({ median: 20, min: 1, max: 99, p25: 16, p75: 24 }, { median: 10, min: 1, max: 99, p25: 8, p75: 12 })).toEqual({
      value: 2,
      low: 16 / 12,
      high: 3,
    });
    expect(ratioOf({ median: 4, min: 2, max: 8 }, { median: 2, min: 1, max: 4 })).toEqual({ value: 2, low: 0.5, high: 8 });
    expect(ratioOf(undefined, s(1))).toBeUndefined();
  });

  it("marks met and missed targets from section results", () => {
    const figures = computeFigures({
      roundTrip: { floor: { small: s(100), large: s(100) }, mounted: { small: s(110), large: s(130) }, copyOut: { small: s(500), large: s(2000) } },
      clientOverhead: { client: s(1.05), bareFetch: s(1) },
      devServer: { spawnFloor: s(30), createFirstRun: s(120), warmRun: s(1) },
      scale: {
        levels: [
          { concurrency: 1, failures: 0, create: { ...s(50), p95: 60 } },
          { concurrency: 50, failures: 1, create: { ...s(300), p95: 600 } },
        ],
      },
    });
    const by = Object.fromEntries(figures.map((f) => [f.id, f]));
    expect(by["roundtrip.small.mounted_vs_floor"]?.verdict).toBe("met");
    expect(by["roundtrip.large.mounted_vs_floor"]?.verdict).toBe("missed");
    expect(by["roundtrip.large.copyout_vs_mounted"]?.value).toBeCloseTo(2000 / 130);
    expect(by["roundtrip.small.copyout_vs_mounted"]?.verdict).toBe("info");
    expect(by["client.overhead"]?.verdict).toBe("met");
    expect(by["devserver.create_vs_spawn"]?.verdict).toBe("missed");
    expect(by["devserver.warm_speedup"]?.value).toBe(30);
    expect(by["scale.p95_create"]?.value).toBe(10);
    expect(by["scale.p95_create"]?.verdict).toBe("missed");
    expect(by["scale.failures"]?.verdict).toBe("missed");
  });

  it("says sync mode is not available instead of inventing a number", () => {
    const figures = computeFigures({ sync: { available: false } });
    const sync = figures.filter((f) => f.id.startsWith("sync."));
    expect(sync).toHaveLength(4);
    for (const f of sync) {
      expect(f.value).toBeNull();
      expect(f.verdict).toBe("n/a");
      expect(f.note).toBe("sync mode: not available in this build");
    }
  });

  it("judges sync figures when sync mode was measured", () => {
    const figures = computeFigures({ sync: { available: true, msPerFile: 4, largeMBps: 80, inMsPerFile: 12, inLargeMBps: 150 } });
    const by = Object.fromEntries(figures.map((f) => [f.id, f.verdict]));
    expect(by).toMatchObject({ "sync.ms_per_file": "met", "sync.mb_per_s": "missed", "sync.in_ms_per_file": "missed", "sync.in_mb_per_s": "met" });
  });

  it("reports unmeasured figures as n/a, never as met", () => {
    for (const f of computeFigures({})) expect(["n/a"]).toContain(f.verdict);
  });

  it("publishes each sync route side by side and memory per sandbox", () => {
    const route = (mbps: number) => ({
      inLargeMBps: mbps,
      largeMBps: mbps * 2,
      inMsPerFile: 1,
      msPerFile: 20,
      inRandomMBps: mbps / 2,
      randomMBps: mbps / 4,
    });
    const figures = computeFigures({
      sync: {
        available: true,
        ...route(150),
        variants: { before: { ...route(9), inRandomMBps: undefined, randomMBps: undefined }, legacy: route(40), fast: route(150) },
      },
      memory: {
        levels: [
          { sandboxes: 1, perSandboxPssMiB: 30, perSandboxRssMiB: 60, serverRssMiB: 80 },
          { sandboxes: 50, perSandboxPssMiB: 20, perSandboxRssMiB: 55, serverRssMiB: 120 },
        ],
      },
    });
    const by = Object.fromEntries(figures.map((f) => [f.id, f]));
    expect(by["sync.before.in_mb_per_s"]).toMatchObject({ value: 9, verdict: "missed", unit: "MB/s" });
    expect(by["sync.fast.mb_per_s"]).toMatchObject({ value: 300, verdict: "met" });
    expect(by["sync.legacy.ms_per_file"]).toMatchObject({ value: 20, verdict: "missed" });
    expect(by["sync.fast.random_mb_per_s"]).toMatchObject({ value: 37.5, verdict: "info", unit: "MB/s" });
    expect(by["sync.before.random_mb_per_s"]).toBeUndefined();
    expect(by["memory.per_sandbox_pss.50"]).toMatchObject({ value: 20, verdict: "info", unit: "MiB" });
    expect(by["memory.server_rss.1"]).toMatchObject({ value: 80 });
  });
});
