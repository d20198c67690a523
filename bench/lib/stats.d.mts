// Types for stats.mjs (consumed by the TypeScript unit tests).
export interface Summary {
  n: number;
  median: number;
  p25: number;
  p75: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}
export function quantileSorted(sorted: readonly number[], q: number): number;
export function summarize(samples: readonly number[]): Summary;
export function ratio(a: { median: number }, b: { median: number }): number;
export function verdict(value: number, target: { limit: number; direction: "max" | "min" }): "met" | "missed" | "n/a";
export function timeRepeated(opts: {
  warmup: number;
  reps: number;
  fn: (i: number) => Promise<unknown>;
  before?: (i: number) => Promise<unknown>;
  after?: (i: number) => Promise<unknown>;
}): Promise<number[]>;
