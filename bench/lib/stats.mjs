// Small, dependency-free statistics for the benchmarks. Pure functions: unit-tested in
// test/unit/bench/stats.test.ts.

/**
 * Linear-interpolation quantile (the "type 7" definition used by R and NumPy's default).
 * @param {number[]} sorted ascending samples
 * @param {number} q in [0, 1]
 * @returns {number}
 */
export function quantileSorted(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo];
  const b = sorted[hi];
  return a + (b - a) * (pos - lo);
}

/**
 * Summary of a sample: median with spread (min/max and IQR) — what every figure in the report shows.
 * @param {number[]} samples
 * @returns {{ n: number, median: number, p25: number, p75: number, p95: number, min: number, max: number, mean: number }}
 */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n === 0 ? Number.NaN : sorted.reduce((s, x) => s + x, 0) / n;
  return {
    n,
    median: quantileSorted(sorted, 0.5),
    p25: quantileSorted(sorted, 0.25),
    p75: quantileSorted(sorted, 0.75),
    p95: quantileSorted(sorted, 0.95),
    min: n === 0 ? Number.NaN : sorted[0],
    max: n === 0 ? Number.NaN : sorted[n - 1],
    mean,
  };
}

/**
 * Ratio of two medians, rounded for display stability.
 * @param {{ median: number }} a numerator summary
 * @param {{ median: number }} b denominator summary
 */
export function ratio(a, b) {
  return a.median / b.median;
}

/**
 * Verdict of a target. `direction: "max"` means the value must be <= limit; "min" means >= limit.
 * @param {number} value
 * @param {{ limit: number, direction: "max" | "min" }} target
 * @returns {"met" | "missed" | "n/a"}
 */
export function verdict(value, target) {
  if (!Number.isFinite(value)) return "n/a";
  return target.direction === "max" ? (value <= target.limit ? "met" : "missed") : value >= target.limit ? "met" : "missed";
}

/**
 * Runs `fn` `warmup` times untimed, then `reps` times timed; `before`/`after` run untimed around each call.
 * @param {{ warmup: number, reps: number, fn: (i: number) => Promise<unknown>, before?: (i: number) => Promise<unknown>, after?: (i: number) => Promise<unknown> }} opts
 * @returns {Promise<number[]>} durations in ms
 */
export async function timeRepeated({ warmup, reps, fn, before, after }) {
  const samples = [];
  for (let i = 0; i < warmup + reps; i++) {
    if (before) await before(i);
    const t0 = performance.now();
    await fn(i);
    const dt = performance.now() - t0;
    if (after) await after(i);
    if (i >= warmup) samples.push(dt);
  }
  return samples;
}
